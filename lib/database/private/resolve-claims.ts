import { Size } from 'cdk8s';
import { IConstruct } from 'constructs';
import { PropValidator } from '../../prop-validator';
import { AccessMode } from '../../storage/common';
import type { StatefulDatabaseProps, VolumeClaimOptions } from '../stateful-database-props';
import { DatabaseIdentity, ResolvedClaim, ResolvedClaims } from './database-spec';

/** The claim templates: the data claim (`storage`) first, then `extraVolumeClaims`; pools learn their claims. */
export function resolveClaims(check: PropValidator, identity: DatabaseIdentity, props: StatefulDatabaseProps): ResolvedClaims {
  const dataClaim = { name: 'data', mountPath: identity.engine.dataPath, ...check.record('storage', props.storage ?? {}) };
  const claimOptions = [dataClaim, ...check.list('extraVolumeClaims', props.extraVolumeClaims)];
  const poolClaims: ResolvedClaims['poolClaims'] = [];
  const claims = claimOptions.map((c, i) => claimTemplate(check, identity, c, i, poolClaims));
  return { claims, poolClaims };
}

function claimTemplate(check: PropValidator, set: DatabaseIdentity, c: VolumeClaimOptions, index: number,
  poolClaims: ResolvedClaims['poolClaims']): ResolvedClaim {
  const where = index === 0 ? 'storage' : `extraVolumeClaims[${index - 1}]`;
  if (index > 0 && (!c.name || !c.mountPath)) {
    check.fail(`${where} needs a name and a mountPath, got ${JSON.stringify({ name: c.name, mountPath: c.mountPath })}. Fix: e.g. { name: 'archive', mountPath: '/archive', storageClass: slow }.`);
  }
  const name = check.dnsLabel(`${where} name`, c.name!);
  check.absolutePath(`${where} mountPath`, c.mountPath!);
  // claim names `<template>-<set>-<ordinal>` must stay DNS subdomains
  check.dnsSubdomain(`${where} claim name`, `${name}-${set.name}-${set.startOrdinal + Math.max(0, set.replicas - 1)}`);
  if (c.pool && c.storageClass) {
    check.fail(`${where} gives both pool and storageClass. Fix: keep one: a pool for static volumes, a class for dynamic provisioning.`);
  }
  const size = c.size ?? Size.gibibytes(10);
  check.sizeKib(`${where} size`, size);
  const accessModes = check.accessModes(c.accessModes ?? [AccessMode.READ_WRITE_ONCE]);
  const storageClassName = c.pool?.storageClassName ?? c.storageClass?.storageClassName;
  if (storageClassName !== undefined) check.dnsSubdomain(`${where} storageClassName`, storageClassName);
  const minimum = c.storageClass?.minimumVolumeSize;
  if (minimum && check.sizeKib(`${where} size`, size) < minimum.toKibibytes()) {
    check.fail(`${where} size ${size.asString()} is below the ${minimum.asString()} that class '${storageClassName}' provisions at least ` +
      `(AWS st1/sc1 volumes start at 125 GiB): the claim would stay Pending. Fix: request at least ${minimum.asString()}, or use another class.`);
  }
  if (c.pool) poolClaims.push({ pool: c.pool, claims: poolClaim(set.scope, set, name, size, accessModes, c) });
  return { name, mountPath: c.mountPath!, size: size.asString(), accessModes, storageClassName, selector: c.pool?.selectorLabels };
}

/** What a pool proves at synth: every ordinal of the set finds a volume. */
function poolClaim(owner: IConstruct, set: DatabaseIdentity, name: string, size: Size, accessModes: AccessMode[], c: VolumeClaimOptions) {
  return {
    owner,
    claimTemplateName: name,
    statefulSetName: set.name,
    namespaceName: set.namespaceName,
    startOrdinal: set.startOrdinal,
    replicas: set.replicas,
    request: size,
    accessModes,
    storageClassName: c.pool!.storageClassName,
    selector: c.pool!.selectorLabels,
  };
}
