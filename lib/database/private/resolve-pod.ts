import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { show } from '../../errors';
import { PropValidator } from '../../prop-validator';
import type { PodToleration, StatefulDatabaseProps } from '../stateful-database-props';
import { secretName } from './secret-name';
import type { ApiRule, EngineBinding } from '../engine-definition';
import { DatabaseIdentity, ResolvedPod, ResolvedToleration, ResolvedWorkload } from './database-spec';

/** How the StatefulSet starts and updates its pods (checked before the pod: the order of the errors is the API's). */
export function resolveRollout(check: PropValidator, identity: DatabaseIdentity, props: StatefulDatabaseProps): Pick<ResolvedWorkload, 'podManagementPolicy' | 'updateStrategy'> {
  const engine = identity.engine;
  const podManagementPolicy = props.podManagementPolicy ?? (engine.parallelStart ? kplus.PodManagementPolicy.PARALLEL : kplus.PodManagementPolicy.ORDERED_READY);
  if (!Object.values(kplus.PodManagementPolicy).includes(podManagementPolicy)) {
    check.fail(`podManagementPolicy must be OrderedReady or Parallel, got ${show(podManagementPolicy)}. Fix: use PodManagementPolicy.ORDERED_READY.`);
  }
  const updateStrategy = props.updateStrategy;
  if (updateStrategy?.partition !== undefined) {
    // a partition above the highest ordinal updates nobody, silently
    const highest = Math.max(0, identity.startOrdinal + identity.replicas - 1);
    check.integer('updateStrategy partition', updateStrategy.partition, 0, highest, `use a partition from 0 (update all) up to the highest ordinal, ${highest}`);
  }
  const strategy = updateStrategy?._toKube() ?? { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
  return { podManagementPolicy, updateStrategy: { type: strategy.type ?? 'RollingUpdate', partition: strategy.rollingUpdate?.partition } };
}

/** What happens to the claims on deletion and scale-down, and the ServiceAccount to create. */
export function resolveRetention(check: PropValidator, identity: DatabaseIdentity, props: StatefulDatabaseProps,
  binding: EngineBinding): Pick<ResolvedWorkload, 'claimRetention' | 'createServiceAccount' | 'role'> {
  const retention = (what: string, value: string | undefined): string => {
    const v = value ?? 'Retain';
    if (v !== 'Retain' && v !== 'Delete') check.fail(`${what} must be Retain or Delete, got ${show(v)}. Fix: use ClaimRetention.RETAIN.`);
    return v;
  };
  const access = binding.apiAccess;
  const existing = props.serviceAccountName;
  return {
    // an engine that uses the API server gets an account of its own (or the user's existing one),
    // bound to a Role of its rules
    createServiceAccount: existing === undefined && (props.createServiceAccount || access) ? identity.name : undefined,
    role: access ? {
      name: identity.name,
      rules: check.list('apiAccess rules', access.rules).map((r, i) => apiRule(check, i, r)),
      subject: existing ?? identity.name,
    } : undefined,
    claimRetention: {
      whenDeleted: retention('claimRetentionWhenDeleted', props.claimRetentionWhenDeleted),
      whenScaled: retention('claimRetentionWhenScaled', props.claimRetentionWhenScaled),
    },
  };
}

/** The pod's placement and identity: grace period, anti-affinity, nodes, priority, account, pull secrets. */
export function resolvePod(check: PropValidator, props: StatefulDatabaseProps, name: string, binding: EngineBinding): ResolvedPod {
  if (props.serviceAccountName !== undefined && props.createServiceAccount) {
    check.fail(`serviceAccountName ${show(props.serviceAccountName)} and createServiceAccount are both given. Fix: keep one: an existing account, or the one the database creates.`);
  }
  const automountToken = binding.apiAccess !== undefined;
  // an existing account is used as given; with the engine's API access, its Role is bound to it
  const serviceAccountName = props.serviceAccountName !== undefined ? check.dnsSubdomain('serviceAccountName', props.serviceAccountName)
    : props.createServiceAccount || automountToken ? name : undefined;
  return {
    terminationGracePeriodSeconds: check.seconds('terminationGracePeriod', props.terminationGracePeriod ?? Duration.seconds(30), 86400),
    antiAffinity: antiAffinity(check, props.antiAffinity ?? 'preferred'),
    nodeSelector: props.nodeSelector === undefined ? undefined : check.labels('nodeSelector', props.nodeSelector),
    tolerations: props.tolerations === undefined ? undefined : check.list('tolerations', props.tolerations).map((t, i) => toleration(check, i, t)),
    priorityClassName: props.priorityClassName === undefined ? undefined : check.dnsSubdomain('priorityClassName', props.priorityClassName),
    serviceAccountName,
    automountToken,
    imagePullSecrets: props.imagePullSecrets === undefined ? undefined : check.list('imagePullSecrets', props.imagePullSecrets)
      .map((s, i) => secretName(check, `imagePullSecrets[${i}]`, s)),
  };
}

/** A rule of the engine's Role: API groups, resources and verbs, none empty, no wildcard. */
function apiRule(check: PropValidator, index: number, rule: ApiRule): ApiRule {
  const what = `apiAccess rules[${index}]`;
  check.record(what, rule);
  for (const field of ['apiGroups', 'resources', 'verbs'] as const) {
    const values = rule[field];
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string' || v.includes('*'))) {
      check.fail(`${what} ${field} must name each value (no '*', none empty), got ${show(rule[field])}. Fix: list exactly what the engine uses.`);
    }
  }
  const names = rule.resourceNames;
  if (names !== undefined && (!Array.isArray(names) || names.length === 0 || names.some((v) => typeof v !== 'string' || v === ''))) {
    check.fail(`${what} resourceNames must name each object (none empty), got ${show(names)}. Fix: list the objects' names, or leave resourceNames out.`);
  }
  return { apiGroups: [...rule.apiGroups], resources: [...rule.resources], verbs: [...rule.verbs], ...(names ? { resourceNames: [...names] } : {}) };
}

function antiAffinity(check: PropValidator, mode: string): ResolvedPod['antiAffinity'] {
  if (mode === 'none' || mode === 'required' || mode === 'preferred') return mode;
  return check.fail(`antiAffinity must be preferred, required or none, got ${show(mode)}. Fix: use AntiAffinity.PREFERRED.`);
}

function toleration(check: PropValidator, index: number, t: PodToleration): ResolvedToleration {
  const what = `tolerations[${index}]`;
  check.record(what, t);
  if (t.key !== undefined) check.labels(`${what} key`, { [t.key]: '' });
  if (t.value !== undefined) {
    if (t.key === undefined) check.fail(`${what} gives a value without a key. Fix: give the taint's key too, or neither to tolerate every taint.`);
    check.labels(`${what} value`, { x: t.value });
  }
  const effects: string[] = Object.values(kplus.TaintEffect);
  if (t.effect !== undefined && !effects.includes(t.effect)) {
    check.fail(`${what} effect must be one of ${effects.join(', ')}, got ${show(t.effect)}. Fix: e.g. TaintEffect.NO_SCHEDULE.`);
  }
  let seconds: number | undefined;
  if (t.evictAfter !== undefined) {
    if (t.effect !== kplus.TaintEffect.NO_EXECUTE) {
      check.fail(`${what} gives evictAfter with effect ${show(t.effect)}: only NoExecute taints evict. Fix: set effect: TaintEffect.NO_EXECUTE, or drop evictAfter.`);
    }
    seconds = check.seconds(`${what} evictAfter`, t.evictAfter, 31_536_000);
  }
  return { key: t.key, operator: t.value === undefined ? 'Exists' : 'Equal', value: t.value, effect: t.effect, tolerationSeconds: seconds };
}
