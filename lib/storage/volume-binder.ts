/**
 * The synth-time proof that every replica's claim can bind a volume of its pool.
 *
 * It follows the rules of the PersistentVolume controller: a volume can bind a claim when its
 * `storageClassName` equals the claim's, it offers every access mode asked for, its capacity is at
 * least the request, its labels match the claim's selector, and, if the volume is reserved through
 * `claimRef`, the reservation names this claim. Among the candidates the controller takes the
 * smallest volume that fits; so does this proof.
 *
 * @see https://kubernetes.io/docs/concepts/storage/persistent-volumes/#binding
 */

/** A volume as the binder sees it. */
export interface BindableVolume {
  readonly name: string;
  readonly capacityKib: number;
  readonly accessModes: string[];
  readonly storageClassName: string;
  readonly labels: { [key: string]: string };
  /** `namespace/name` of the claim the volume is reserved for, if any. */
  readonly reservedFor?: string;
}

/** A claim as the binder sees it. */
export interface BindableClaim {
  /** `namespace/name` of the claim. */
  readonly key: string;
  readonly requestKib: number;
  readonly accessModes: string[];
  readonly storageClassName: string;
  readonly selector: { [key: string]: string };
}

/** A claim left without a volume, and why. */
export interface UnboundClaim {
  readonly claim: BindableClaim;
  readonly reason: string;
}

/** Why `volume` cannot bind `claim`, or undefined when it can. */
export function mismatch(volume: BindableVolume, claim: BindableClaim): string | undefined {
  if (volume.storageClassName !== claim.storageClassName) {
    return `volume ${volume.name} has storageClassName '${volume.storageClassName}', the claim asks for '${claim.storageClassName}'`;
  }
  const missingModes = claim.accessModes.filter((m) => !volume.accessModes.includes(m));
  if (missingModes.length > 0) {
    return `volume ${volume.name} does not offer access mode ${missingModes.join(', ')} (it offers ${volume.accessModes.join(', ')})`;
  }
  if (volume.capacityKib < claim.requestKib) {
    return `volume ${volume.name} holds ${kib(volume.capacityKib)}, the claim requests ${kib(claim.requestKib)}`;
  }
  const wrongLabel = Object.entries(claim.selector).find(([k, v]) => volume.labels[k] !== v);
  if (wrongLabel) {
    return `volume ${volume.name} lacks the label ${wrongLabel[0]}=${wrongLabel[1]} that the claim selects`;
  }
  return undefined;
}

/**
 * Binds claims to volumes as the controller would and returns the claims left without one.
 * Runs in O((v + c) log v): reserved claims are looked up by key, the others take the smallest
 * free volume that fits, in ascending order of request.
 */
export function unboundClaims(volumes: BindableVolume[], claims: BindableClaim[]): UnboundClaim[] {
  const result: UnboundClaim[] = [];
  const reserved = new Map<string, BindableVolume>();
  for (const v of volumes) if (v.reservedFor) reserved.set(v.reservedFor, v);

  const free: BindableVolume[] = volumes.filter((v) => !v.reservedFor).sort((a, b) => a.capacityKib - b.capacityKib);
  // Claims are served in ascending order of request and each takes the smallest fitting volume,
  // so the volumes taken always form the prefix of the fitting range: a cursor tracks its end.
  let cursor = 0;

  const open = [...claims].filter((claim) => {
    const own = reserved.get(claim.key);
    if (!own) return true;
    const why = mismatch(own, claim);
    if (why) result.push({ claim, reason: `it is reserved to ${own.name}, but ${why}` });
    return false;
  });
  open.sort((a, b) => a.requestKib - b.requestKib);

  for (const claim of open) {
    let lo = cursor;
    let hi = free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (free[mid].capacityKib < claim.requestKib) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= free.length) {
      const reason = free.length === 0
        ? 'every volume of the pool is reserved for another claim'
        : cursor >= free.length
          ? `all ${free.length} unreserved volumes of the pool are taken`
          : `no free volume holds the ${kib(claim.requestKib)} requested`;
      result.push({ claim, reason });
      continue;
    }
    const why = mismatch(free[lo], claim);
    if (why) {
      result.push({ claim, reason: why });
      continue;
    }
    cursor = lo + 1;
  }
  return result;
}

/** A KiB count in the largest binary unit that divides it: 1048576 -> '1Gi'. */
function kib(n: number): string {
  for (const [unit, factor] of [['Ti', 1024 ** 3], ['Gi', 1024 ** 2], ['Mi', 1024]] as const) {
    if (n % factor === 0) return `${n / factor}${unit}`;
  }
  return `${n}Ki`;
}
