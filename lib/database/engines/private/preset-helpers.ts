/*
 * The one home of what the engine presets (engines/*.ts) share: identity and credential
 * environment, version and option checks, probes, config lines and the scripts ConfigMap.
 * Internal: not exported from the package.
 */
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { StatefulConfigError } from '../../../errors';
import type { DatabaseCredentials, EngineBinding, EngineContext, IEngineBinder } from '../../engine-definition';
import { HealthProbe } from '../../probe';
export { runScript, scriptFiles } from './engine-scripts';

/** The pod label holding the ordinal (Kubernetes 1.28+). */
const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/** An engine binder from a function (the presets' shape). */
export function engineBinder(bind: (ctx: EngineContext) => EngineBinding): IEngineBinder {
  return { bind };
}

/**
 * What every engine script learns its identity and peers from: the pod index label through the
 * downward API (the scripts fall back to the hostname suffix before 1.28), the first ordinal, and
 * the peer list synthesized from the headless Service.
 */
export function identityEnv(ctx: EngineContext): { [name: string]: kplus.EnvValue } {
  return {
    POD_INDEX: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_LABEL, { key: POD_INDEX_LABEL }),
    START_ORDINAL: kplus.EnvValue.fromValue(String(ctx.startOrdinal)),
    PEERS: kplus.EnvValue.fromValue(ctx.peerAddresses.join(' ')),
  };
}

/** Throws the library's error, naming the database when the context knows it. */
export function engineFail(ctx: EngineContext, engine: string, message: string): never {
  if (ctx.scope) throw new StatefulConfigError(ctx.scope, `DatabaseEngine.${engine}`, message);
  throw new Error(`DatabaseEngine.${engine}: ${message}`);
}

/**
 * Where the passwords of the credentials Secret are: `KEYS_DIR`, the directory every container
 * mounts the Secret at, and one `*_KEY` variable per key an engine reads, naming the key (a file
 * of that directory). The scripts read a password with `read_secret NAME KEY_VAR` (common.sh) and
 * point the images' own `*_FILE` variables at the file themselves, right before they start the
 * image's entrypoint: no variable of the pod spec is called `..._PASSWORD...`, which static
 * checkers (Polaris' sensitiveContainerEnvVar) flag whatever the value, and no variable holds a
 * password.
 */
export interface CredentialKeys {
  /** The Secret and its keys, as the database was given them. */
  readonly credentials: DatabaseCredentials;
  /** `KEYS_DIR` and `ROOT_KEY`: the admin (root, superuser) password, `rootPasswordKey`, default `root-password`. */
  readonly root: { [name: string]: kplus.EnvValue };
  /** `KEYS_DIR` and `USERNAME_KEY`: the application user's name, `usernameKey`, default `username`. */
  readonly username: { [name: string]: kplus.EnvValue };
  /** `KEYS_DIR` and `PW_KEY`: the application user's password, `passwordKey`, default `password`. */
  readonly password: { [name: string]: kplus.EnvValue };
  /** `KEYS_DIR` and `REPLICATION_KEY`: the replication password, `replicationPasswordKey`, default `replication-password`. */
  readonly replication: { [name: string]: kplus.EnvValue };
}

/** What Kubernetes accepts as a Secret key, which here is also a file name. */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * The credentials' keys as environment (see {@link CredentialKeys}), or a synth-time error saying
 * why the engine needs them. Engines pass passwords to the images and to their scripts as files,
 * never as values: an environment variable holding a password, even from a Secret reference,
 * shows in process listings and crash reports (kube-linter: read-secret-from-env-var).
 */
export function requireCredentials(ctx: EngineContext, engine: string, why: string): CredentialKeys {
  const credentials = ctx.credentials;
  if (!credentials) {
    engineFail(ctx, engine, `the database has no credentials: ${why}. ` +
      "Fix: pass credentials: { secret: Secret.fromSecretName(chart, 'creds', 'my-credentials') } " +
      "(create it with 'kubectl create secret generic my-credentials --from-literal=root-password=…').");
  }
  const dir = ctx.credentialsPath;
  if (typeof dir !== 'string' || !dir.startsWith('/')) {
    engineFail(ctx, engine, `the credentials Secret is not mounted (the engine context has no absolute credentialsPath, got ${JSON.stringify(dir)}); ` +
      'the preset reads its passwords from files there. Fix: bind the engine through StatefulDatabase, which mounts the Secret at /run/secrets/db.');
  }
  const key = (variable: string, option: 'rootPasswordKey' | 'usernameKey' | 'passwordKey' | 'replicationPasswordKey', fallback: string) => {
    const value = credentials[option] ?? fallback;
    if (typeof value !== 'string' || !SECRET_KEY.test(value) || value === '.' || value.startsWith('..')) {
      engineFail(ctx, engine, `credentials.${option} must be a key of the Secret (letters, digits, '-', '_' and '.'), got ${JSON.stringify(value)}: ` +
        `the preset reads the file ${dir}/<key>. Fix: use the key as it is in the Secret, e.g. '${fallback}'.`);
    }
    return { KEYS_DIR: kplus.EnvValue.fromValue(dir.replace(/\/+$/, '')), [variable]: kplus.EnvValue.fromValue(value) };
  };
  // getters: only the keys an engine reads are checked
  return {
    credentials,
    get root() { return key('ROOT_KEY', 'rootPasswordKey', 'root-password'); },
    get username() { return key('USERNAME_KEY', 'usernameKey', 'username'); },
    get password() { return key('PW_KEY', 'passwordKey', 'password'); },
    get replication() { return key('REPLICATION_KEY', 'replicationPasswordKey', 'replication-password'); },
  };
}

/**
 * The memory limit of the database container in bytes, through the downward API (the node's
 * allocatable memory when the container has no limit), for scripts that size the server from it.
 */
export function memoryLimitEnv(): { [name: string]: kplus.EnvValue } {
  // the downward API only needs the container's name
  const main = { name: 'main' } as kplus.Container;
  return { MEMORY_LIMIT_BYTES: kplus.EnvValue.fromResource(kplus.ResourceFieldPaths.MEMORY_LIMIT, { container: main }) };
}

/** A version parsed from an image tag, to check a minimum. */
export interface ParsedVersion {
  readonly major: number;
  readonly minor: number;
  /** @default 0 */
  readonly patch?: number;
}

function older(a: ParsedVersion, b: ParsedVersion): boolean {
  const pa = [a.major, a.minor, a.patch ?? 0];
  const pb = [b.major, b.minor, b.patch ?? 0];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] < pb[i];
  return false;
}

/**
 * Checks that `tag` is a version tag `major.minor[.patch]` (optionally with a `-variant` suffix or
 * an `@sha256:` digest) no older than `min`; returns the version.
 */
export function checkVersion(ctx: EngineContext, engine: string, tag: string, min: ParsedVersion, why: string): ParsedVersion {
  const minText = `${min.major}.${min.minor}${min.patch !== undefined ? `.${min.patch}` : ''}`;
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(-[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?$/.exec(typeof tag === 'string' ? tag : '');
  if (!m) {
    engineFail(ctx, engine, `version must be an image tag such as '${minText}' (optionally with a -variant suffix or an @sha256: digest), got '${tag}'. Fix: use a version constant, or of('<major>.<minor>.<patch>').`);
  }
  if (/alpine/i.test(m[4] ?? '')) {
    engineFail(ctx, engine, `version ${tag} is an Alpine variant, which has no bash; the preset's init scripts and probes run with bash. Fix: use the Debian/Ubuntu-based tag, e.g. '${tag.replace(/-alpine[^@]*/i, '')}'.`);
  }
  const version = { major: Number(m[1]), minor: Number(m[2]), patch: m[3] !== undefined ? Number(m[3]) : undefined };
  if (older(version, min)) {
    engineFail(ctx, engine, `version ${tag} is older than ${minText}, which the preset needs (${why}). Fix: use ${minText} or newer, or DatabaseEngine.custom() for an older image.`);
  }
  return version;
}

/**
 * The probes of a preset's script: readiness `<script> ready`; a startup probe `<script>
 * <startupKind>` (`live` by default) with a long budget (30 minutes by default: initialization,
 * crash recovery, a state transfer or a base backup may take long and must not be killed), and
 * liveness `<script> live` only once the startup probe passed.
 */
export function scriptProbes(command: (kind: string) => string[], startupBudget: Duration = Duration.minutes(30), startupKind = 'live') {
  const period = Duration.seconds(10);
  // at most 100 failures (the probe check's limit): a longer budget checks less often
  const startupPeriod = Math.max(10, Math.ceil(startupBudget.toSeconds() / 100));
  return {
    readinessProbe: HealthProbe.command(command('ready'), { period }),
    startupProbe: HealthProbe.command(command(startupKind), {
      period: Duration.seconds(startupPeriod),
      failureThreshold: Math.ceil(startupBudget.toSeconds() / startupPeriod),
    }),
    livenessProbe: HealthProbe.command(command('live'), { period, failureThreshold: 6 }),
  };
}

/** How an engine writes, and checks, the settings of its config file. */
export interface ConfigRules {
  /** What a setting's name must look like, e.g. `/^[a-z][a-z0-9_]*$/`. */
  readonly name: RegExp;
  /** Settings the preset writes itself, which the map must not override. */
  readonly managed: string[];
  /** One line of the file. */
  readonly line: (name: string, value: string) => string;
}

/**
 * The engine settings of a preset's options (typed ones first, then the free map), checked and
 * rendered as the lines of its config file, sorted by name. Refuses a name the engine cannot have,
 * a name the preset manages, a line break in a value and a setting given twice.
 */
export function configLines(ctx: EngineContext, engine: string, typed: { [name: string]: string | undefined }, extra: { [name: string]: string } | undefined, rules: ConfigRules): string[] {
  const settings: { [name: string]: string } = {};
  for (const [name, value] of Object.entries(typed)) if (value !== undefined) settings[name] = value;
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (!rules.name.test(name)) {
      engineFail(ctx, engine, `config has the setting name ${JSON.stringify(name)}, which the engine's config file cannot hold (${rules.name}). Fix: use the server's own name for the setting, e.g. 'max_connections'.`);
    }
    if (rules.managed.includes(name)) {
      engineFail(ctx, engine, `config sets '${name}', which the preset manages itself. Fix: remove it from config${Object.keys(typed).length ? ` (typed options: ${Object.keys(typed).join(', ')})` : ''}.`);
    }
    if (settings[name] !== undefined) {
      engineFail(ctx, engine, `config sets '${name}', which a typed option sets already. Fix: keep one of them.`);
    }
    if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.trim() === '') {
      engineFail(ctx, engine, `config sets '${name}' to ${JSON.stringify(value)}: a value must be a non-empty single-line string. Fix: e.g. config: { ${name}: '100' }.`);
    }
    settings[name] = value;
  }
  return Object.keys(settings).sort().map((name) => rules.line(name, settings[name]));
}

/** A whole number option in a range, or a synth-time error. */
export function integerOption(ctx: EngineContext, engine: string, option: string, value: number | undefined, min: number, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    engineFail(ctx, engine, `${option} must be a whole number from ${min} to ${max}, got ${Number.isNaN(value) ? 'NaN' : JSON.stringify(value)}. Fix: e.g. ${option}: ${Math.min(max, Math.max(min, 100))}.`);
  }
  return String(value);
}

/** A size option, at least `minKib` KiB, as whole KiB, or a synth-time error. */
export function sizeOptionKib(ctx: EngineContext, engine: string, option: string, value: Size | undefined, minKib: number): number | undefined {
  if (value === undefined) return undefined;
  let kib = NaN;
  try {
    kib = value.toKibibytes();
  } catch {
    // not a Size: reported below
  }
  if (!Number.isInteger(kib) || kib < minKib) {
    engineFail(ctx, engine, `${option} must be a Size of at least ${minKib} KiB in whole KiB, got ${Number.isNaN(kib) ? String(value) : `${kib} KiB`}. Fix: e.g. ${option}: Size.mebibytes(256).`);
  }
  return kib;
}

/** The `engine.conf` lines of a MySQL or MariaDB preset's settings. */
export function mysqlConfigLines(ctx: EngineContext, engine: string, options: { innodbBufferPoolSize?: Size; maxConnections?: number; config?: { [name: string]: string } }, managed: string[]): string[] {
  const pool = sizeOptionKib(ctx, engine, 'innodbBufferPoolSize', options.innodbBufferPoolSize, 5 * 1024);
  return configLines(ctx, engine, {
    innodb_buffer_pool_size: pool === undefined ? undefined : `${pool}K`,
    max_connections: integerOption(ctx, engine, 'maxConnections', options.maxConnections, 1, 100_000),
  }, options.config, { name: /^[a-z][a-z0-9_-]*$/, managed, line: (n, v) => `${n}=${v}` });
}

/** The default image of the containers that talk to the Kubernetes API (a POSIX shell and curl). */
export const DEFAULT_API_CLIENT_IMAGE = 'docker.io/curlimages/curl:8.14.1';

/** IMAGE (the default when undefined), checked to be pinned: a tag other than `latest`, or a digest; FAIL names WHAT. */
export function pinnedApiClientImage(fail: (message: string) => never, what: string, image: string | undefined): string {
  const value = image ?? DEFAULT_API_CLIENT_IMAGE;
  if (typeof value !== 'string' || !/^[^\s]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/.test(value) || /:latest$/.test(value)) {
    fail(`${what} must be a pinned image with sh and curl, got ${JSON.stringify(value)}. Fix: e.g. '${DEFAULT_API_CLIENT_IMAGE}'.`);
  }
  return value;
}
