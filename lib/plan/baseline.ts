import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseDocument, parseScalar, splitDocuments } from './yaml-reader';

/** The kinds whose changes the guard checks; every other document of the baseline is skipped unparsed. @internal */
export const GUARDED_KINDS = ['StatefulSet', 'PersistentVolumeClaim', 'PersistentVolume', 'StorageClass'];
const KIND_LINE = /^kind:[ \t]*["']?(StatefulSet|PersistentVolumeClaim|PersistentVolume|StorageClass)["']?[ \t]*$/m;
const CLUSTER_SCOPED = new Set(['PersistentVolume', 'StorageClass', 'Namespace']);

/** `Kind/namespace/name` (namespace empty for cluster-scoped kinds, `default` when a namespaced object has none). @internal */
export function objectKey(obj: any): string {
  const kind = obj?.kind;
  const namespace = CLUSTER_SCOPED.has(kind) ? '' : (obj?.metadata?.namespace ?? 'default');
  return `${kind}/${namespace}/${obj?.metadata?.name}`;
}

/** How an object is named in messages: `StatefulSet shop/orders`, `StorageClass fast`. @internal */
export function objectLabel(key: string): string {
  const [kind, namespace, name] = key.split('/');
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

/** The manifest files of a directory (and its sub-directories, as cdk8s writes a folder per chart), sorted. @internal */
export function manifestFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(ya?ml|json)$/.test(entry.name)) out.push(p);
    }
  };
  if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) walk(dir);
  return out;
}

/**
 * The guarded objects (`GUARDED_KINDS`) of the manifests in a directory, by `objectKey`.
 * Other documents are recognised by their `kind:` line and never parsed.
 * @internal
 */
export function loadBaseline(dir: string, kinds: 'guarded' | 'all' = 'guarded'): Map<string, any> {
  return readManifests(readFiles(dir), kinds);
}

/** The manifest files of a directory, read. */
function readFiles(dir: string): ManifestText[] {
  return manifestFiles(dir).map((file) => ({ name: file, text: fs.readFileSync(file, 'utf-8') }));
}

/** A manifest file's name (as errors show it) and text. @internal */
export interface ManifestText {
  readonly name: string;
  readonly text: string;
}

/** The objects of manifest texts, by `objectKey`; see `loadBaseline`. @internal */
export function readManifests(files: ManifestText[], kinds: 'guarded' | 'all' = 'guarded', unchanged?: Unchanged): Map<string, any> {
  const objects = new Map<string, any>();
  for (const { name, text } of files) {
    const read = <T>(what: () => T): T => {
      try {
        return what();
      } catch (e) {
        throw new Error(`cannot read the deployed manifests in ${name}: ${(e as Error).message}. ` +
          'Fix: repair or remove the file, point CDK8S_STATEFUL_BASELINE at another directory, or set it to \'off\'.');
      }
    };
    const docs: unknown[] = name.endsWith('.json') ? read(() => [].concat(JSON.parse(text))) : splitDocuments(text);
    for (const doc of docs) {
      if (typeof doc === 'string' && kinds === 'guarded' && !KIND_LINE.test(doc)) continue;
      const same = typeof doc === 'string' ? unchanged?.rendered.get(doc) : undefined;
      if (same !== undefined) {
        unchanged!.keys.add(same);
        continue;
      }
      const obj: any = typeof doc !== 'string' ? doc : read(() => (kinds === 'guarded' ? parseGuarded(doc) : parseDocument(doc)));
      if (obj === null || typeof obj !== 'object' || typeof obj.kind !== 'string') continue;
      objects.set(objectKey(obj), obj);
    }
  }
  return objects;
}

/**
 * The documents the app renders byte for byte as they are deployed: never parsed, for nothing
 * changed. `rendered` maps the YAML of each of the app's objects to its `objectKey`; `keys`
 * receives the keys of the deployed documents found there. @internal
 */
export interface Unchanged {
  readonly rendered: ReadonlyMap<string, string>;
  readonly keys: Set<string>;
}

/**
 * The manifests committed under `dir` at git's HEAD, when `dir` is in a git work tree and holds
 * tracked manifests there; otherwise undefined (no git, not a repository, nothing committed).
 * `cdk8s synth` empties its output directory before the app runs: in a GitOps repository the
 * committed manifests are still what is deployed.
 * @internal
 */
export function committedManifests(dir: string): ManifestText[] | undefined {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs)) return undefined;
  // two processes whatever the number of files: the names, then every file's content in one batch
  const listed = git(abs, ['ls-tree', '-r', '-z', '--full-name', '--name-only', 'HEAD', '--', '.']);
  const names = (listed?.toString('utf-8') ?? '').split('\0').filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  if (names.length === 0) return undefined;
  const batch = git(abs, ['cat-file', '--batch'], names.map((n) => `HEAD:${n}\n`).join(''));
  return batch ? splitBatch(batch, names) : undefined;
}

/** Runs git in `cwd` (with `input` on stdin): its output, or undefined when it fails or git is missing. */
function git(cwd: string, args: string[], input?: string): Buffer | undefined {
  const r = spawnSync('git', args, { cwd, input, maxBuffer: 2 ** 30, stdio: ['pipe', 'pipe', 'ignore'] });
  return r.status === 0 ? r.stdout : undefined;
}

/** The files of `git cat-file --batch` output (`<oid> blob <bytes>\n<content>\n` each), or undefined if one is missing. */
function splitBatch(out: Buffer, names: string[]): ManifestText[] | undefined {
  const files: ManifestText[] = [];
  let at = 0;
  for (const name of names) {
    const eol = out.indexOf(10, at);
    const header = /^[0-9a-f]+ blob ([0-9]+)$/.exec(out.toString('utf-8', at, eol));
    if (!header) return undefined;
    const size = Number(header[1]);
    files.push({ name: `${name} (git HEAD)`, text: out.toString('utf-8', eol + 1, eol + 1 + size) });
    at = eol + 1 + size + 1;
  }
  return files;
}

/** The environment variable that names the baseline directory, or turns the comparison off (`off`). */
export const BASELINE_ENV = 'CDK8S_STATEFUL_BASELINE';

/** The deployed manifests the guard compares with, and where they were read. @internal */
export interface Deployed {
  /** The manifests' texts, read when the guard is attached; parsed when the app is compared with them. */
  readonly files: ManifestText[];
  /** The directory, or `<dir> at git HEAD`. */
  readonly from: string;
}

/**
 * Everything the guard reads, in one place, before the app renders: the deployed manifests of
 * `CDK8S_STATEFUL_BASELINE` (`off` reads nothing), else of `baselineDir`, else of the app's
 * output directory, and when that one is empty (the cdk8s CLI empties it), those committed there
 * at git's HEAD. Undefined when there is nothing to compare with.
 * @internal
 */
export function readDeployed(outdir: string | undefined, baselineDir: string | undefined): Deployed | undefined {
  const env = process.env[BASELINE_ENV];
  const fromEnv = env !== undefined && env !== '';
  if (fromEnv && /^(off|none|false|0)$/i.test(env)) return undefined;
  const dir = fromEnv ? env : baselineDir ?? outdir;
  if (dir === undefined) return undefined;
  const files = readFiles(dir);
  if (files.length > 0) return { files, from: dir };
  const isDefault = !fromEnv && baselineDir === undefined;
  const committed = isDefault ? committedManifests(dir) : undefined;
  return committed ? { files: committed, from: `${dir} at git HEAD` } : undefined;
}

const UNITS: { [suffix: string]: number } = {
  '': 1, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18, 'm': 1e-3,
  'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
};

/** A Kubernetes quantity (`10Gi`, `500M`, `1e9`) in bytes, or undefined if it is not one. @internal */
export function quantityBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  const m = typeof value === 'string' ? /^([0-9.]+)(?:([eE][-+]?[0-9]+)|([kMGTPEm]|[KMGTPE]i)?)$/.exec(value) : null;
  if (!m) return undefined;
  const n = Number(m[1] + (m[2] ?? ''));
  return Number.isFinite(n) ? n * UNITS[m[3] ?? ''] : undefined;
}

/**
 * A guarded document; of a StatefulSet's pod template only the names, images and commands of
 * the containers and init containers, which is all the rules
 * read (the template may change freely), found by their lines in the layout cdk8s writes; any
 * other layout is parsed in full.
 */
function parseGuarded(doc: string): any {
  const start = doc.indexOf('\n  template:\n');
  if (start < 0 || !/^kind: StatefulSet$/m.test(doc)) return parseDocument(doc);
  const next = /\n {0,2}[^ \n]/g;
  next.lastIndex = start + 1;
  const end = next.exec(doc)?.index ?? doc.length;
  const block = doc.slice(start, end);
  const containers = containerList(block, 'containers');
  if (!containers || containers.length === 0 || containers.some((c) => typeof c.image !== 'string')) return parseDocument(doc);
  const initContainers = containerList(block, 'initContainers') ?? [];
  const obj = parseDocument(doc.slice(0, start + 1) + doc.slice(end + 1));
  obj.spec.template = { spec: { containers, initContainers } };
  return obj;
}

/**
 * The names and images (and commands, a list of plain scalars) of the pod template's list KEY,
 * from its lines in the layout cdk8s writes; undefined when the template has no such list.
 */
function containerList(block: string, key: string): { [key: string]: unknown }[] | undefined {
  const marker = `\n      ${key}:\n`;
  const at = block.indexOf(marker);
  if (at < 0) return undefined;
  const list: { [key: string]: unknown }[] = [];
  let command: unknown[] | undefined;
  for (const line of block.slice(at + marker.length).split('\n')) {
    if (!line.startsWith('        ')) break;
    const m = /^ {8}(- | {2})(image|name|command):(?: (.+))?$/.exec(line);
    if (line.startsWith('        - ')) list.push({});
    const item = list[list.length - 1];
    if (m && item) {
      command = m[2] === 'command' ? [] : undefined;
      if (command) item.command = command;
      else item[m[2]] = parseScalar(m[3] ?? '');
    } else if (command && /^ {12}- (.+)$/.test(line)) {
      command.push(parseScalar(line.slice(14)));
    } else if (/^ {10}\S/.test(line)) {
      command = undefined;
    }
  }
  return list;
}
