import { IConstruct } from 'constructs';
import { PropValidator } from '../../prop-validator';
import type { StatefulDatabaseProps } from '../stateful-database-props';
import { DatabaseIdentity, DatabaseSpec } from './database-spec';
import { resolveClaims } from './resolve-claims';
import { bindEngine, resolveContainers } from './resolve-containers';
import { resolveIdentity } from './resolve-identity';
import { resolvePod, resolveRetention, resolveRollout } from './resolve-pod';
import { resolveServices } from './resolve-services';

/**
 * Checks and defaults every prop of a database, binds its engine, and returns plain values
 * (database-spec.ts): the one place a StatefulDatabase throws. Each part has a resolver of its
 * own, called in the order the errors are reported; render-database.ts turns the result into API
 * objects and never throws. `scope` is the database, named in every error.
 */
export function resolveSpec(scope: IConstruct, id: string, props: StatefulDatabaseProps): DatabaseSpec {
  const check = new PropValidator(scope, 'StatefulDatabase');
  const identity = resolveIdentity(check, scope, id, props);
  const claims = resolveClaims(check, identity, props);
  const binding = bindEngine(identity, claims, props, scope);
  const warnings = [...quorumWarnings(identity), ...(binding.warnings ?? [])];
  const containers = resolveContainers(check, identity, claims, binding, props);
  const rollout = resolveRollout(check, identity, props);
  const pod = resolvePod(check, props, identity.name, binding);
  const services = resolveServices(check, identity, props, binding);
  const workload = { ...rollout, ...resolveRetention(check, identity, props, binding) };
  return { identity, claims, binding, warnings, containers, workload, pod, services };
}

/** An even quorum survives no more failures than one member fewer. */
function quorumWarnings({ engine, replicas }: DatabaseIdentity): string[] {
  if (!engine.quorum || replicas === 0 || replicas % 2 !== 0) return [];
  return [`${replicas} members form a quorum of ${replicas / 2 + 1}: they survive no more failures than ${replicas - 1} would, ` +
    `and a network split in half stops both sides. Fix: use an odd replica count, e.g. ${replicas + 1}.`];
}
