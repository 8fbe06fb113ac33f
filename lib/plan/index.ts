export type { ChangeGuardOptions } from './guard';
export { BASELINE_ENV, ChangeGuard, PLAN_ENV } from './guard';
