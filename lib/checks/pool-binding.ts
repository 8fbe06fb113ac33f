// TODO(bench owner): bench/checks.ts still imports this path; change its import to
// '../lib/storage/volume-binder' and delete this file (and the lib/checks/ folder with it).
export { mismatch, unboundClaims } from '../storage/volume-binder';
export type { BindableClaim, BindableVolume, UnboundClaim } from '../storage/volume-binder';
