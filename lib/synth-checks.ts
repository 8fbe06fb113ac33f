import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { StatefulConfigError } from './errors';

/**
 * The checks that need the whole App, run once per synth from one validation on the App's root:
 * duplicate objects across every chart, then the warnings every construct recorded (printed once
 * on stderr, or refused in strict mode), then any further app-wide check registered with
 * {@link addAppCheck}. Each throws the library's {@link StatefulConfigError}, so `cdk8s synth`
 * fails with the construct's path, never with a wrapped string.
 */

/** The environment variable that turns warnings into errors: `CDK8S_STATEFUL_STRICT=true npx cdk8s synth`. */
const STRICT_ENV = 'CDK8S_STATEFUL_STRICT';

/** Kinds without a namespace: their names are unique in the whole cluster. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'CSIDriver', 'CSINode', 'VolumeAttachment',
  'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'RuntimeClass', 'IngressClass',
  'CustomResourceDefinition', 'APIService', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'FlowSchema', 'PriorityLevelConfiguration',
  'CertificateSigningRequest',
]);

interface Warning {
  readonly scope: IConstruct;
  readonly kind: string;
  readonly message: string;
}

/** What the root validation of one App knows. */
interface AppState {
  readonly warnings: Warning[];
  readonly printed: Set<string>;
  readonly checks: Array<() => void>;
  strict: boolean;
}

const STATES = new WeakMap<IConstruct, AppState>();

function state(scope: IConstruct): AppState {
  const root = scope.node.root;
  let s = STATES.get(root);
  if (!s) {
    const created: AppState = { warnings: [], printed: new Set(), checks: [], strict: false };
    s = created;
    STATES.set(root, created);
    root.node.addValidation({ validate: () => { runAppChecks(root, created); return []; } });
  }
  return s;
}

/**
 * Registers the app-wide checks for the App `scope` is in (once per App; every construct of the
 * library calls it).
 * @internal
 */
export function useAppChecks(scope: IConstruct): void {
  state(scope);
}

/**
 * Adds an app-wide check, run at synth after the duplicate check and the warnings. It throws a
 * {@link StatefulConfigError} to fail synth.
 * @internal
 */
export function addAppCheck(scope: IConstruct, check: () => void): void {
  state(scope).checks.push(check);
}

/**
 * Records a synth-time warning of a construct: node metadata of type `warning` (the text with the
 * construct's path), printed once on stderr when the App is synthesized, and an error in strict
 * mode. Returns the text.
 * @internal
 */
export function addWarning(scope: IConstruct, kind: string, message: string): string {
  const text = `${kind} '${scope.node.path}': ${message}`;
  scope.node.addMetadata('warning', text);
  state(scope).warnings.push({ scope, kind, message });
  return text;
}

/**
 * Synth-time checks of the whole App.
 *
 * Warnings (an even quorum, ...) are printed once on stderr when the App is synthesized, each
 * with its construct's path. In strict mode they fail synth instead, for CI: call
 * `SynthChecks.strict(app)`, or set `CDK8S_STATEFUL_STRICT=true` in the environment.
 */
export class SynthChecks {
  /** Turns every warning of the App that `scope` is in into a synth error. */
  public static strict(scope: IConstruct): void {
    state(scope).strict = true;
  }

  /** Whether warnings are errors for the App that `scope` is in. */
  public static isStrict(scope: IConstruct): boolean {
    const env = process.env[STRICT_ENV];
    return state(scope).strict || env === 'true' || env === '1';
  }

  private constructor() {}
}

function runAppChecks(root: IConstruct, s: AppState): void {
  checkDuplicates(root);
  if (s.warnings.length > 0 && SynthChecks.isStrict(root)) {
    const [first, ...rest] = s.warnings;
    const more = rest.map((w) => `\n${w.kind} '${w.scope.node.path}': ${w.message}`).join('');
    throw new StatefulConfigError(first.scope, first.kind,
      `${first.message} (a warning, refused in strict mode: SynthChecks.strict(app) or ${STRICT_ENV}=true)${more}`);
  }
  for (const w of s.warnings) {
    const text = `${w.kind} '${w.scope.node.path}': ${w.message}`;
    if (s.printed.has(text)) continue;
    s.printed.add(text);
    process.stderr.write(`[warning] ${text}\n`);
  }
  s.checks.forEach((check) => check());
}

/**
 * Two objects of one kind, namespace and name anywhere in the App overwrite each other when
 * applied (the last one wins, silently): refuse them, naming both construct paths. Cluster-scoped
 * kinds collide across namespaces; a namespaced object without a namespace lands in `default`.
 */
function checkDuplicates(root: IConstruct): void {
  const seen = new Map<string, ApiObject>();
  const clashes: Array<[ApiObject, ApiObject]> = [];
  for (const c of root.node.findAll()) {
    if (!ApiObject.isApiObject(c)) continue;
    const obj = c as ApiObject;
    const namespace = CLUSTER_SCOPED.has(obj.kind) ? '' : (obj.metadata.namespace ?? 'default');
    const key = `${obj.apiGroup}/${obj.kind}/${namespace}/${obj.name}`;
    const first = seen.get(key);
    if (first) clashes.push([first, obj]);
    else seen.set(key, obj);
  }
  if (clashes.length === 0) return;
  const describe = (o: ApiObject) => CLUSTER_SCOPED.has(o.kind)
    ? `${o.kind} '${o.name}'`
    : `${o.kind} '${o.name}' in namespace '${o.metadata.namespace ?? 'default'}'`;
  const [[first, second], ...rest] = clashes;
  const others = rest.length === 0 ? '' :
    ` (and ${rest.length} more: ${rest.map(([a, b]) => `${describe(a)} by '${a.node.path}' and '${b.node.path}'`).join('; ')})`;
  throw new StatefulConfigError(second, second.kind,
    `${describe(second)} is also written by '${first.node.path}': two objects of one ` +
    `${CLUSTER_SCOPED.has(second.kind) ? 'kind and name' : 'kind, namespace and name'} overwrite each other when applied${others}. ` +
    `Fix: give one of them another name (the construct's 'name' prop)${CLUSTER_SCOPED.has(second.kind) ? ', or define it once and share it' : ', or move it to another namespace'}.`);
}
