import { Duration, Size } from 'cdk8s';
import { IConstruct } from 'constructs';
import { StatefulConfigError, show } from './errors';
import { useAppChecks } from './synth-checks';
import { AccessMode } from './storage/common';

const FROM_ID = ' (taken from the construct id, as no name was given)';

/** The fix for an invalid name: a valid spelling of it, and where it came from. */
function nameFix(value: unknown, maxLength: number, fromId: boolean, example: string): string {
  const suggestion = typeof value === 'string'
    ? value.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, maxLength).replace(/^-+|-+$/g, '')
    : '';
  return fromId ? `pass name: '${suggestion || 'db'}', or use a lower-case construct id` : `use a name such as ${example}`;
}

/**
 * The validators of construct props, shared by every construct: each method checks one value
 * and returns it, or throws a {@link StatefulConfigError} naming the construct, the value received
 * and the fix. None of them is called from render code. Internal: not exported from the package.
 */
export class PropValidator {
  constructor(private readonly scope: IConstruct, private readonly kind: string) {
    useAppChecks(scope); // every construct of the library takes part in the App's checks
  }

  /** Throws the library's error for this construct. */
  public fail(message: string): never {
    throw new StatefulConfigError(this.scope, this.kind, message);
  }

  /**
   * A DNS-1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric.
   * Services, StatefulSets (whose pod names become hostnames) and ports' names use it.
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names
   */
  public dnsLabel(what: string, value: string, maxLength = 63, fromId = false): string {
    if (typeof value !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > maxLength) {
      this.fail(
        `${what}${fromId ? FROM_ID : ''} must be a DNS-1123 label of at most ${maxLength} characters (lower-case letters, digits and '-', ` +
          `starting and ending with a letter or digit), got ${show(value)}. Fix: ${nameFix(value, maxLength, fromId, "'orders-db'")}.`,
      );
    }
    return value;
  }

  /**
   * A DNS-1123 subdomain: what most object names (PersistentVolume, StorageClass, Secret) allow.
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-subdomain-names
   */
  public dnsSubdomain(what: string, value: string, fromId = false): string {
    const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
    if (typeof value !== 'string' || value.length > 253 || !value.split('.').every((part) => label.test(part))) {
      this.fail(
        `${what}${fromId ? FROM_ID : ''} must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), ` +
          `got ${show(value)}. Fix: ${nameFix(value, 253, fromId, "'fast' or 'nfs-web-0'")}.`,
      );
    }
    return value;
  }

  /** A list (an absent one is empty), or the construct's error. */
  public list<T>(what: string, value: T[] | undefined): T[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(`${what} must be a list, got ${show(value)}. Fix: pass an array, e.g. [].`);
    value.forEach((item, i) => this.record(`${what}[${i}]`, item));
    return value;
  }

  /** A plain object (a struct or a map), or the construct's error. */
  public record<T>(what: string, value: T): T {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(`${what} must be an object, got ${show(value)}. Fix: pass an object literal, e.g. { name: 'data' }.`);
    }
    return value;
  }

  /** A positive size in whole KiB (what a quantity needs), or the construct's error. */
  public sizeKib(what: string, size: Size): number {
    // what Size promises, not its class: a Size of another copy of cdk8s is welcome
    if (typeof (size as any)?.toKibibytes !== 'function' || typeof (size as any)?.asString !== 'function') this.fail(`${what} must be a Size, got ${show(size)}. Fix: e.g. Size.gibibytes(1).`);
    let kib: number;
    try {
      kib = size.toKibibytes();
    } catch {
      return this.fail(`${what} must be a whole number of KiB, got ${size.asString()}. Fix: e.g. Size.gibibytes(1).`);
    }
    if (!(kib > 0)) this.fail(`${what} must be positive, got ${size.asString()}. Fix: e.g. Size.gibibytes(1).`);
    if (!Number.isInteger(kib)) this.fail(`${what} must be a whole number of KiB, got ${size.asString()}. Fix: e.g. Size.mebibytes(512).`);
    return kib;
  }

  /** A duration in whole seconds within [0, max], as probes and grace periods take. */
  public seconds(what: string, duration: Duration, max: number): number {
    if (typeof (duration as any)?.toSeconds !== 'function' || typeof (duration as any)?.toMilliseconds !== 'function') this.fail(`${what} must be a Duration, got ${show(duration)}. Fix: e.g. Duration.seconds(30).`);
    let seconds: number;
    try {
      seconds = duration.toSeconds();
    } catch {
      return this.fail(`${what} must be whole seconds, got ${duration.toMilliseconds()}ms. Fix: e.g. Duration.seconds(5).`);
    }
    return this.integer(what, seconds, 0, max, `use a duration from 0 to ${max} seconds`);
  }

  /** Access modes: a non-empty list of known modes, without repeats. */
  public accessModes(modes: AccessMode[]): AccessMode[] {
    const known = Object.values(AccessMode) as string[];
    if (!Array.isArray(modes)) this.fail(`accessModes must be a list, got ${JSON.stringify(modes)}. Fix: e.g. [AccessMode.READ_WRITE_ONCE].`);
    if (modes.length === 0) this.fail('accessModes is empty. Fix: e.g. [AccessMode.READ_WRITE_ONCE].');
    const unknown = modes.find((m) => !known.includes(m));
    if (unknown) this.fail(`accessModes has an unknown mode '${unknown}'. Fix: use one of ${known.join(', ')}.`);
    return [...new Set(modes)];
  }

  /** A whole number within [min, max]. */
  public integer(what: string, value: number, min: number, max: number, fix: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(`${what} must be a whole number from ${min} to ${max}, got ${show(value)}. Fix: ${fix}.`);
    }
    return value;
  }

  /** A TCP/UDP port number. */
  public port(what: string, value: number): number {
    return this.integer(what, value, 1, 65535, 'use a port number from 1 to 65535');
  }

  /** An absolute, normalised path (no '..' segments), as mount paths and NFS paths must be. */
  public absolutePath(what: string, value: string): string {
    if (typeof value !== 'string' || !value.startsWith('/') || value.split('/').includes('..') || /[\s:]/.test(value)) {
      this.fail(
        `${what} must be an absolute path without '..', spaces or ':', got ${show(value)}. Fix: use a path such as '/var/lib/data'.`,
      );
    }
    return value;
  }

  /** A container image reference with an explicit tag or digest other than 'latest'. */
  public pinnedImage(what: string, value: string): string {
    const text = typeof value === 'string' ? value : '';
    const tagged = (text.split('/').pop() ?? '').includes(':') || text.includes('@sha256:');
    if (typeof value !== 'string' || value.trim() !== value || value === '' || !tagged || /:latest$/.test(value)) {
      this.fail(
        `${what} must name a pinned tag or digest (not 'latest'), got ${show(value)}. ` +
          "Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:…', so every replica runs the same build.",
      );
    }
    return value;
  }

  /** An IPv4 CIDR such as `10.0.0.0/8`, as NetworkPolicy `ipBlock`s take. */
  public ipv4Cidr(what: string, value: string, example: string): string {
    const m = typeof value === 'string' ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value) : null;
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
      this.fail(`${what} must be an IPv4 CIDR, got ${show(value)}. Fix: e.g. ${example}.`);
    }
    return value;
  }

  /** Label keys and values per the Kubernetes syntax. */
  public labels(what: string, labels: { [key: string]: string }): { [key: string]: string } {
    const name = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
    const copy: { [key: string]: string } = {};
    for (const [key, value] of Object.entries(this.record(what, labels))) {
      const [prefix, local] = key.includes('/') ? key.split('/', 2) : [undefined, key];
      const keyOk = name.test(local) && local.length <= 63 && (prefix === undefined || (prefix.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(prefix)));
      const valueOk = typeof value === 'string' && value.length <= 63 && (value === '' || name.test(value));
      if (!keyOk || !valueOk) {
        this.fail(
          `${what} has an invalid label ${show(key)}: ${show(value)} (keys are [prefix/]name, values at most 63 ` +
            "alphanumerics, '-', '_' or '.'). Fix: e.g. { 'storage': 'pv' }.",
        );
      }
      copy[key] = value;
    }
    return copy;
  }
}
