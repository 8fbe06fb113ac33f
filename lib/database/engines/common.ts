import * as fs from 'fs';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';
import { StatefulConfigError } from '../../errors';
import type { DatabaseCredentials, EngineBinding, EngineContext, IEngineBinder } from '../engine';

/** Where {@link StatefulDatabase} mounts the engine's files (`EngineBinding.files`) in every container. */
export const SCRIPTS_PATH = '/opt/cdk8s-stateful';

/** The pod label holding the ordinal (Kubernetes 1.28+). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

let scriptsDir: string | undefined;

/**
 * The directory of the engine scripts. They are plain files beside this module in the sources
 * (`lib/database/engines/scripts/`); `tsc` does not copy them into `out/`, so compiled code finds
 * them by walking up to the package root.
 */
function findScriptsDir(): string {
  if (scriptsDir) return scriptsDir;
  const beside = path.join(__dirname, 'scripts');
  if (fs.existsSync(path.join(beside, 'common.sh'))) return (scriptsDir = beside);
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'lib', 'database', 'engines', 'scripts');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(candidate, 'common.sh'))) {
      return (scriptsDir = candidate);
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`cdk8s-stateful: the engine scripts are missing (looked beside ${__dirname} and under the package root). Reinstall the package.`);
    }
  }
}

/** The text of an engine script, read at synth time. */
export function script(name: string): string {
  return fs.readFileSync(path.join(findScriptsDir(), name), 'utf-8');
}

/** The files of the scripts ConfigMap: `common.sh` and the named scripts. */
export function scriptFiles(...names: string[]): { [name: string]: string } {
  const files: { [name: string]: string } = {};
  for (const name of ['common.sh', ...names].sort()) files[name] = script(name);
  return files;
}

/** An engine binder from a function (the presets' shape). */
export function engineBinder(bind: (ctx: EngineContext) => EngineBinding): IEngineBinder {
  return { bind };
}

/** The command that runs a shipped script. */
export function runScript(name: string, ...args: string[]): string[] {
  return ['bash', `${SCRIPTS_PATH}/${name}`, ...args];
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
 * Where the passwords of the credentials Secret are, as values for `X_FILE` variables: every key is
 * a file `<credentialsPath>/<key>` in every container (StatefulDatabase mounts the Secret there).
 * The keys are the {@link DatabaseCredentials} ones, or their defaults.
 */
export interface CredentialFiles {
  /** The Secret and its keys, as the database was given them. */
  readonly credentials: DatabaseCredentials;
  /** The admin (root, superuser) password: `rootPasswordKey`, default `root-password`. */
  readonly rootPassword: kplus.EnvValue;
  /** The application user's name: `usernameKey`, default `username`. */
  readonly username: kplus.EnvValue;
  /** The application user's password: `passwordKey`, default `password`. */
  readonly password: kplus.EnvValue;
  /** The replication password: `replicationPasswordKey`, default `replication-password`. */
  readonly replicationPassword: kplus.EnvValue;
}

/** What Kubernetes accepts as a Secret key, which here is also a file name. */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * The credentials' files, or a synth-time error saying why the engine needs them. Engines pass
 * passwords to the images and to their scripts as paths (`MYSQL_ROOT_PASSWORD_FILE`,
 * `REDIS_PASSWORD_FILE`, ...), never as values: an environment variable holding a password, even
 * from a Secret reference, shows in process listings and crash reports (kube-linter:
 * read-secret-from-env-var).
 */
export function requireCredentials(ctx: EngineContext, engine: string, why: string): CredentialFiles {
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
  const file = (option: 'rootPasswordKey' | 'usernameKey' | 'passwordKey' | 'replicationPasswordKey', fallback: string): kplus.EnvValue => {
    const key = credentials[option] ?? fallback;
    if (typeof key !== 'string' || !SECRET_KEY.test(key) || key === '.' || key.startsWith('..')) {
      engineFail(ctx, engine, `credentials.${option} must be a key of the Secret (letters, digits, '-', '_' and '.'), got ${JSON.stringify(key)}: ` +
        `the preset reads the file ${dir}/<key>. Fix: use the key as it is in the Secret, e.g. '${fallback}'.`);
    }
    return kplus.EnvValue.fromValue(`${dir.replace(/\/+$/, '')}/${key}`);
  };
  // getters: only the keys an engine reads are checked
  return {
    credentials,
    get rootPassword() { return file('rootPasswordKey', 'root-password'); },
    get username() { return file('usernameKey', 'username'); },
    get password() { return file('passwordKey', 'password'); },
    get replicationPassword() { return file('replicationPasswordKey', 'replication-password'); },
  };
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
