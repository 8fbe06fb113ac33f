/*
 * The CPU, memory and ephemeral-storage requests and limits of the database's containers: the
 * defaults, and the user's values over them field by field. Internal: not exported from the package.
 */
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { show } from '../../errors';
import { PropValidator } from '../../prop-validator';

/** One resource's request and limit, as quantity strings. */
interface Pair {
  readonly request: string;
  readonly limit: string;
}

/** Requests and limits of a container, every field set. */
export interface ResolvedResources {
  readonly cpu: Pair;
  readonly memory: Pair;
  readonly ephemeralStorage: Pair;
}

/** The defaults of the database container and of every init container, field by field. */
export const DEFAULT_RESOURCES: ResolvedResources = {
  cpu: { request: '250m', limit: '1' },
  memory: { request: '512Mi', limit: '1Gi' },
  ephemeralStorage: { request: '64Mi', limit: '1Gi' },
};

const SUFFIX: { [suffix: string]: number } = {
  'm': 1e-3, '': 1, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
  'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
};

/** A quantity's value (`250m` -> 0.25, `1Gi` -> 1073741824), NaN when it is not one. */
export function quantityValue(quantity: string): number {
  const m = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([a-zA-Z]*)$/.exec(quantity);
  if (!m || SUFFIX[m[2]] === undefined) return NaN;
  return Number(m[1]) * SUFFIX[m[2]];
}

/**
 * The given requests and limits over the defaults, field by field (`cpu: { request }` keeps the
 * default CPU limit and the memory defaults), checked: each a quantity, no request above its
 * limit (the API server refuses that pod). A default never contradicts a given value: a request
 * alone above the default limit raises the limit to it, a limit alone below the default request
 * lowers the request to it.
 */
export function resolveResources(check: PropValidator, what: string, given: kplus.ContainerResources | undefined,
  defaults: ResolvedResources = DEFAULT_RESOURCES): ResolvedResources {
  const r = check.record(what, given ?? {});
  const amount = (field: string, v: unknown): string | undefined => {
    if (v === undefined) return undefined;
    // by what they promise, not by class: a Size or Cpu of another cdk8s(-plus) copy works too
    if (field.startsWith('cpu') && typeof (v as kplus.Cpu).amount === 'string') return (v as kplus.Cpu).amount;
    if (!field.startsWith('cpu') && typeof (v as Size).asString === 'function') return (v as Size).asString();
    return check.fail(`${what} ${field} must be a ${field.startsWith('cpu') ? 'Cpu' : 'Size'}, got ${show(v)}. ` +
      `Fix: e.g. ${field.startsWith('cpu') ? 'Cpu.millis(500)' : 'Size.mebibytes(512)'}.`);
  };
  const pair = (name: string, value: { request?: unknown; limit?: unknown } | undefined, dflt: Pair): Pair => {
    if (value !== undefined) check.record(`${what} ${name}`, value);
    // a default never contradicts what was given: a request alone above the default limit raises
    // the limit to it; a limit alone below the default request lowers the request to it (as
    // Kubernetes defaults a missing request to the limit)
    const givenRequest = amount(`${name}.request`, value?.request);
    const givenLimit = amount(`${name}.limit`, value?.limit);
    const above = (a: string, b: string) => quantityValue(a) > quantityValue(b);
    const request = givenRequest ?? (givenLimit !== undefined && above(dflt.request, givenLimit) ? givenLimit : dflt.request);
    const limit = givenLimit ?? (above(request, dflt.limit) ? request : dflt.limit);
    for (const [field, q] of [['request', request], ['limit', limit]]) {
      const n = quantityValue(q);
      if (!(n > 0) || !Number.isFinite(n)) {
        check.fail(`${what} ${name}.${field} must be a positive quantity, got ${show(q)}. Fix: e.g. ${name === 'cpu' ? 'Cpu.millis(500)' : 'Size.mebibytes(512)'}.`);
      }
    }
    if (above(request, limit)) {
      check.fail(`${what}: ${name} request ${request} is above its limit ${limit}: the API server refuses such a pod. ` +
        `Fix: lower the request, or give ${name}.limit of at least ${request}.`);
    }
    return { request, limit };
  };
  return {
    cpu: pair('cpu', r.cpu, defaults.cpu),
    memory: pair('memory', r.memory, defaults.memory),
    ephemeralStorage: pair('ephemeralStorage', r.ephemeralStorage, defaults.ephemeralStorage),
  };
}
