import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, JsonPatch } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { StatefulDatabase } from '../database/stateful-database';
import { StatefulConfigError } from '../errors';
import { addAppCheck } from '../synth-checks';
import { Deployed, GUARDED_KINDS, Unchanged, objectKey, readDeployed, readManifests } from './baseline';
import { renderOnce, withYamlWriter } from './yaml-writer';
import { DatabaseContext, Finding, GuardContext, compareObject, describeFinding } from './change-rules';

export { BASELINE_ENV } from './baseline';
/** The environment variable that names a file the guard writes its findings to (JSON), for `cdk8s-stateful plan`. */
export const PLAN_ENV = 'CDK8S_STATEFUL_PLAN';
const GUARDED = new Set(GUARDED_KINDS);
const GUARDS = new WeakMap<IConstruct, ChangeGuard>();

/** Options of the {@link ChangeGuard}. */
export interface ChangeGuardOptions {
  /**
   * The directory of the manifests deployed now. `CDK8S_STATEFUL_BASELINE` overrides it.
   * @default - the app's output directory (what the last synth wrote, in a GitOps repository the committed manifests)
   */
  readonly baselineDir?: string;
  /**
   * Objects you delete right before the apply, so that their immutable fields may change:
   * `StorageClass/fast`, `PersistentVolume/www-0`, `PersistentVolumeClaim/<namespace>/<name>`.
   * @default - none
   */
  readonly recreate?: string[];
  /**
   * Objects whose switch to a `Delete` reclaim policy you accept, knowing the data goes with the
   * claim: `PersistentVolume/<name>`.
   * @default - none
   */
  readonly dataLossAcknowledged?: string[];
  /**
   * StorageClasses outside this app that allow volume expansion, so claims on them may grow.
   * @default - none: growth is allowed on classes of this app that say allowVolumeExpansion
   */
  readonly expandableClasses?: string[];
}

/** A database the guard knows the engine and approvals of. @internal */
interface Watched {
  readonly scope: IConstruct;
  readonly resource: ApiObject;
  readonly context: DatabaseContext;
}

/**
 * Compares what synth is about to write with the manifests deployed now, before anything is
 * overwritten, and refuses changes the API server would reject or that would lose data, each with
 * the steps that do it safely (docs/plan.md). A storage increase on an expandable class is carried
 * out: the output then holds the claims themselves with the new request.
 *
 * An app opts in with one line, right after creating the App:
 *
 * ```ts
 * const app = new App();
 * ChangeGuard.attach(app);
 * ```
 *
 * `attach` reads the deployed manifests there and then, and nowhere else: the app's output
 * directory unless `baselineDir` or `CDK8S_STATEFUL_BASELINE` names another (`off` turns the
 * comparison off); with no manifests there (a first synth) nothing is compared. `cdk8s synth` (the
 * CLI) empties its output directory before it runs the app: the default baseline is then what
 * git's HEAD holds in that directory, in a GitOps repository the committed manifests. The
 * comparison runs with the app's validation, after every construct is built; the constructs
 * themselves never reach the guard.
 */
export class ChangeGuard {
  /**
   * Attaches the guard to the app: reads the deployed manifests now, and compares the app's
   * objects with them when the app is synthesized. Once per app.
   */
  public static attach(app: App, options: ChangeGuardOptions = {}): ChangeGuard {
    const root = app.node.root;
    if (GUARDS.has(root)) {
      throw new StatefulConfigError(root, 'ChangeGuard', 'is attached to this app twice. Fix: call ChangeGuard.attach(app) once, with every option.');
    }
    const guard = new ChangeGuard(root, options, readDeployed((app as Partial<App>).outdir, options.baselineDir));
    GUARDS.set(root, guard);
    writeWithLibraryWriter(app);
    return guard;
  }

  /** The guard attached to the app `scope` is in, if any. */
  public static of(scope: IConstruct): ChangeGuard | undefined {
    return GUARDS.get(scope.node.root);
  }

  private readonly watched = new Map<ApiObject, Watched>();
  private result?: Finding[];
  /** The construct and kind behind each finding's owner text, for the error. */
  private readonly owners = new Map<string, { scope: IConstruct; kind: string }>();

  private constructor(private readonly root: IConstruct, private readonly options: ChangeGuardOptions, private readonly deployed: Deployed | undefined) {
    addAppCheck(root, () => this.check());
  }

  /** What the comparison found, once synth has validated the app (empty without a baseline). */
  public get findings(): string[] {
    return (this.result ?? []).map((f) => `${f.owner}: ${describeFinding(f)}`);
  }

  /** The databases of the app, by their StatefulSet: their engine and approvals. */
  private watchDatabases(): void {
    for (const c of this.root.node.findAll()) {
      if (!(c instanceof StatefulDatabase)) continue;
      this.watched.set(c.resource, {
        scope: c,
        resource: c.resource,
        context: { owner: `StatefulDatabase '${c.node.path}'`, quorum: c.engine.quorum, engine: c.engine.name, approvals: c.changeApprovals },
      });
    }
  }

  private check(): void {
    if (this.result) return; // cdk8s validates the app again for every chart
    const deployed = this.deployed;
    this.watchDatabases();
    this.result = deployed ? this.compare(deployed) : [];
    const planFile = process.env[PLAN_ENV];
    if (planFile) {
      fs.mkdirSync(path.dirname(planFile), { recursive: true });
      fs.writeFileSync(planFile, JSON.stringify({ baseline: deployed ? deployed.from : null, findings: this.result }, null, 2) + '\n');
    }
    const refused = this.result.filter((f) => f.verdict === 'refused');
    if (refused.length > 0) {
      const first = refused[0];
      const more = refused.length > 1 ? ` (${refused.length - 1} more refused: ${refused.slice(1).map((f) => `${f.field} of ${f.owner}`).join('; ')})` : '';
      const owner = this.owners.get(first.owner)!;
      throw new StatefulConfigError(owner.scope, owner.kind, describeFinding(first) + more);
    }
  }

  private compare(deployed: Deployed): Finding[] {
    const objects = new Map<string, { obj: ApiObject; json: any }>();
    const rendered = new Map<string, string>();
    for (const c of this.root.node.findAll()) {
      if (ApiObject.isApiObject(c) && GUARDED.has(c.kind)) {
        const json = c.toJson();
        reuseOnce(c, json);
        const key = objectKey(json);
        objects.set(key, { obj: c, json });
        const text = renderOnce(json);
        if (text !== undefined) rendered.set(text, key);
      }
    }
    // a deployed document the app renders byte for byte is unchanged: it is not parsed
    const unchanged: Unchanged = { rendered, keys: new Set() };
    const baseline = readManifests(deployed.files, 'guarded', unchanged);
    const classes = new Map<string, any>();
    for (const [key, o] of [...baseline.entries(), ...[...objects.entries()].map(([k, v]) => [k, v.json] as [string, any])]) {
      if (key.startsWith('StorageClass/')) classes.set(o.metadata.name, o);
    }
    const guard: GuardContext = {
      recreate: new Set(this.options.recreate ?? []),
      dataLossAcknowledged: new Set(this.options.dataLossAcknowledged ?? []),
      expandableClasses: new Set(this.options.expandableClasses ?? []),
      classes,
    };
    const findings: Finding[] = [];
    // the claims the deployed manifests carry (usually none), looked up per set below
    const carriedClaims = [...baseline.keys(), ...unchanged.keys].filter((k) => k.startsWith('PersistentVolumeClaim/'));
    for (const [key, { obj, json }] of objects) {
      const before = baseline.get(key);
      if (!before && !unchanged.keys.has(key)) continue;
      const watched = this.watched.get(obj);
      const found = before ? compareObject(key, before, json, guard, watched?.context) : [];
      if (found.length > 0) {
        const owner = this.owner(obj, watched);
        findings.push(...found.map((f) => ({ ...f, owner })));
      }
      if (watched) findings.push(...this.carryClaims(watched, json, baseline, carriedClaims, found, objects, guard));
    }
    return findings;
  }

  /** How errors name the owner of an object: its database, the construct around it, or the object itself. */
  private owner(obj: ApiObject, watched: Watched | undefined): string {
    const parent = obj.node.scope;
    const scope = watched?.scope ?? (parent && !Chart.isChart(parent) ? parent : obj);
    const kind = watched ? 'StatefulDatabase' : scope === obj ? obj.kind : scope.constructor.name;
    const owner = `${kind} '${scope.node.path}'`;
    this.owners.set(owner, { scope, kind });
    return owner;
  }

  /**
   * Storage growth through GitOps: the claim templates keep the size the cluster has (they are
   * immutable), and the output carries each claim `<template>-<set>-<ordinal>` with the new
   * request. Once carried, claims stay in the output, so that a pruning GitOps tool never deletes them.
   */
  private carryClaims(watched: Watched, sts: any, baseline: Map<string, any>, carriedClaims: string[], found: Finding[], objects: Map<string, unknown>, guard: GuardContext): Finding[] {
    const out: Finding[] = [];
    const namespace = sts.metadata.namespace ?? 'default';
    const name = sts.metadata.name;
    const start = sts.spec.ordinals?.start ?? 0;
    const replicas = sts.spec.replicas ?? 1;
    const templates: any[] = sts.spec.volumeClaimTemplates ?? [];
    templates.forEach((t, i) => {
      const growth = found.find((f) => f.expand?.template === i && f.verdict === 'automatic');
      const prefix = `PersistentVolumeClaim/${namespace}/${t.metadata.name}-${name}-`;
      const carried = carriedClaims.filter((k) => k.startsWith(prefix) && /^[0-9]+$/.test(k.slice(prefix.length)));
      if (!growth && carried.length === 0) return;
      if (growth) {
        delete (watched.resource as any).toJson; // rendered again with the patch
        watched.resource.addJsonPatch(JsonPatch.replace(`/spec/volumeClaimTemplates/${i}/spec/resources/requests/storage`, growth.expand!.pinned));
      }
      const ordinals = new Set<number>(Array.from({ length: replicas }, (_, n) => start + n));
      carried.forEach((k) => ordinals.add(Number(k.slice(prefix.length))));
      for (const ordinal of [...ordinals].sort((x, y) => x - y)) {
        const claimName = `${t.metadata.name}-${name}-${ordinal}`;
        if (objects.has(`PersistentVolumeClaim/${namespace}/${claimName}`)) continue;
        const size = growth ? growth.expand!.size : t.spec.resources.requests.storage;
        const claim = new ApiObject(watched.scope as Construct, `Claim-${claimName}`, {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: {
            name: claimName,
            labels: { ...sts.spec.selector?.matchLabels, ...t.metadata.labels },
            annotations: {
              // a claim holds the data: a GitOps tool must never prune it
              'argocd.argoproj.io/sync-options': 'Prune=false',
              'kustomize.toolkit.fluxcd.io/prune': 'disabled',
            },
          },
          spec: { ...t.spec, resources: { ...t.spec.resources, requests: { ...t.spec.resources?.requests, storage: size } } },
        }).toJson();
        const key = objectKey({ ...claim, metadata: { ...claim.metadata, namespace } });
        const before = baseline.get(key);
        if (before) out.push(...compareObject(key, before, claim, guard).map((f) => ({ ...f, owner: this.owner(watched.resource, watched) })));
      }
    });
    return out;
  }
}

/**
 * The app's synth writes its files with the library's YAML writer (./yaml-writer): the same bytes
 * as cdk8s's, in a fraction of the time.
 */
function writeWithLibraryWriter(app: App): void {
  for (const method of ['synth', 'synthYaml'] as const) {
    const original = (app as any)[method];
    if (typeof original !== 'function') continue;
    Object.defineProperty(app, method, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) => withYamlWriter(() => original.apply(app, args)),
    });
  }
}

/**
 * cdk8s renders every object again when it writes the files, right after validation: the guard's
 * rendering is handed over once instead, so the comparison costs no second rendering (the next
 * call renders afresh). Nothing changes the objects between the two: validation comes last.
 */
function reuseOnce(obj: ApiObject, json: any): void {
  Object.defineProperty(obj, 'toJson', {
    configurable: true,
    writable: true,
    value: () => {
      delete (obj as any).toJson;
      return json;
    },
  });
}
