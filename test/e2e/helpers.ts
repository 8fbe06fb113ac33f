// Shared helpers of the real-node suite (test/e2e/, `npm run test:e2e`): synthesize an app with
// the library, apply it with kubectl as a user would, wait for it, run clients in its pods with
// `kubectl exec`, and tear its namespace down. tools/cluster/test.sh (CLUSTER_SUITE=e2e) starts the
// control plane and the real node and sets KUBECONFIG, KUBECTL and CLUSTER_DIR.
//
// One file per engine uses these; a scenario is a plain jest test. A behaviour that is wrong
// today is written as `test.failing('KNOWN FAILURE: <what and why>', ...)`, so it is
// reported, never skipped, and turns red the day it is fixed (then flip it to `test`).
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';

/** The repository root. */
export const REPO = path.resolve(__dirname, '..', '..');
/** The real node's name (tools/cluster/lib.sh NODE_NAME). */
export const NODE_NAME = process.env.NODE_NAME ?? 'real-node';
const KUBECTL = process.env.KUBECTL ?? 'kubectl';

/** Minutes, in milliseconds (jest timeouts). */
export const minutes = (n: number) => n * 60_000;

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; never throws (the caller looks at `code`). Killed after `timeoutMs`. */
export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${opts.timeoutMs}ms)`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => (stderr += String(err)));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** kubectl ARGS; returns stdout, throws with the command and stderr when it fails. */
export async function kubectl(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(KUBECTL, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.code}):\n${r.stderr.trim()}\n${r.stdout.trim()}`);
  return r.stdout;
}

/**
 * Fails (loudly, with the reason) unless the real node is there and Ready: the suite never
 * passes without running containers.
 */
export async function requireRealNode(): Promise<void> {
  if (!process.env.KUBECONFIG) {
    throw new Error('KUBECONFIG is not set: run the suite through `npm run test:e2e` (tools/cluster/test.sh starts the control plane and the real node)');
  }
  const ready = await kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
  if (ready.trim() !== 'True') throw new Error(`node ${NODE_NAME} is not Ready (status '${ready}'): see tools/cluster/node-up.sh and $CLUSTER_DIR/kubelet.log`);
}

/**
 * The reference tools/images/versions.json gives image NAME, e.g. `docker.io/library/mariadb:11.8.9`;
 * with IMAGES_VERSIONS=old, tools/images/versions-old.json (the older majors, as tools/images/build.sh).
 */
export function imageRef(name: string): string {
  const file = path.join(REPO, 'tools', 'images', process.env.IMAGES_VERSIONS === 'old' ? 'versions-old.json' : 'versions.json');
  const versions = JSON.parse(fs.readFileSync(file, 'utf8'));
  const ref = versions[name]?.image;
  if (typeof ref !== 'string') throw new Error(`${file} has no image for '${name}'`);
  return ref;
}

/** The tag of image NAME (what the library's `<Engine>Version.of()` takes). */
export function imageTag(name: string): string {
  const ref = imageRef(name);
  return ref.slice(ref.lastIndexOf(':') + 1);
}

/** A random password (letters and digits only, so it needs no quoting anywhere). */
export function password(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 20);
}

/** Creates namespace NS enforcing Pod Security "restricted" (the cluster enforces it anyway). */
export async function createNamespace(ns: string): Promise<void> {
  await kubectl(['create', 'namespace', ns]);
  await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
}

/**
 * Deletes namespace NS and everything in it, and waits until it is gone. Its pods are deleted at
 * once (their data is thrown away with the namespace); the claims' volumes go with the claims.
 */
export async function deleteNamespace(ns: string): Promise<void> {
  await kubectl(['-n', ns, 'delete', 'statefulsets,deployments', '--all', '--wait=false']).catch(() => '');
  await kubectl(['-n', ns, 'delete', 'pods', '--all', '--force', '--grace-period=0', '--wait=false']).catch(() => '');
  await kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--timeout=300s'], { timeoutMs: 320_000 });
}

/** Creates Secret NAME in NS from literal values, as a user would (`kubectl create secret`). */
export async function createSecret(ns: string, name: string, data: { [key: string]: string }): Promise<void> {
  const literals = Object.entries(data).map(([k, v]) => `--from-literal=${k}=${v}`);
  await kubectl(['-n', ns, 'create', 'secret', 'generic', name, ...literals]);
}

/** Synthesizes one chart in namespace NS: `define` adds the constructs. Returns the YAML. */
export function synth(ns: string, define: (chart: Chart) => void): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-e2e-'));
  try {
    const app = new App({ outdir });
    const chart = new Chart(app, ns, { namespace: ns, disableResourceNameHashes: true });
    define(chart);
    return app.synthYaml();
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** `kubectl apply -f -` of YAML; it is also kept in $CLUSTER_DIR/e2e/<ns>.yaml to look at. */
export async function apply(ns: string, yaml: string): Promise<void> {
  if (process.env.CLUSTER_DIR) {
    const dir = path.join(process.env.CLUSTER_DIR, 'e2e');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${ns}.yaml`), yaml);
  }
  await kubectl(['apply', '-f', '-'], { input: yaml });
}

/** What the namespace looks like, for a failure message: pods, events, the last log lines. */
export async function diagnose(ns: string): Promise<string> {
  const part = async (title: string, args: string[]) => {
    const r = await run(KUBECTL, args, { timeoutMs: 30_000 });
    return `--- ${title}\n${(r.stdout + r.stderr).trim()}`;
  };
  const out = [
    await part('pods', ['-n', ns, 'get', 'pods', '-o', 'wide']),
    await part('claims', ['-n', ns, 'get', 'pvc']),
    await part('events', ['-n', ns, 'get', 'events', '--sort-by=.lastTimestamp']),
  ];
  const pods = (await run(KUBECTL, ['-n', ns, 'get', 'pods', '-o', 'name'])).stdout.split('\n').filter(Boolean);
  for (const pod of pods) out.push(await part(`logs ${pod}`, ['-n', ns, 'logs', pod, '--all-containers', '--tail=30', '--prefix']));
  return out.join('\n').slice(-20_000);
}

/** Polls CHECK (true = done) every 2 s; throws with WHAT and the namespace's state on timeout. */
export async function waitFor(ns: string, what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `\nlast error: ${last}` : ''}\n${await diagnose(ns)}`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** StatefulSet NAME's status. */
export async function statefulSet(ns: string, name: string): Promise<any> {
  return JSON.parse(await kubectl(['-n', ns, 'get', 'statefulset', name, '-o', 'json']));
}

/**
 * Waits until StatefulSet NAME has REPLICAS pods, all Ready and all of the current revision
 * (what `kubectl rollout status` waits for).
 */
export async function waitForReady(ns: string, name: string, replicas: number, timeoutMs = minutes(8)): Promise<void> {
  await waitFor(ns, `statefulset ${ns}/${name}: ${replicas} ready replicas of the current revision`, timeoutMs, async () => {
    const set = await statefulSet(ns, name);
    const s = set.status ?? {};
    // the controller has seen the latest change (else the revisions compared are the old ones)
    return s.observedGeneration === set.metadata?.generation &&
      s.replicas === replicas && s.readyReplicas === replicas && s.updatedReplicas === replicas &&
      s.currentRevision === s.updateRevision && s.availableReplicas === replicas;
  });
}

/** A pod's uid, or '' when it does not exist. */
export async function podUid(ns: string, pod: string): Promise<string> {
  const r = await run(KUBECTL, ['-n', ns, 'get', 'pod', pod, '-o', 'jsonpath={.metadata.uid}']);
  return r.code === 0 ? r.stdout.trim() : '';
}

/** The volume bound to claim NAME. */
export async function claimVolume(ns: string, claim: string): Promise<string> {
  return (await kubectl(['-n', ns, 'get', 'pvc', claim, '-o', 'jsonpath={.spec.volumeName}'])).trim();
}

/**
 * Runs SCRIPT with `sh -c` in a container of POD (`kubectl exec`), STDIN as its input. Returns
 * stdout; throws with stderr when it fails.
 */
export async function exec(ns: string, pod: string, container: string, script: string, stdin?: string, timeoutMs = 120_000): Promise<string> {
  return kubectl(['-n', ns, 'exec', ...(stdin !== undefined ? ['-i'] : []), pod, '-c', container, '--', 'sh', '-c', script], { input: stdin, timeoutMs });
}

/** The DNS name of member ORDINAL of StatefulSet NAME behind headless Service HEADLESS. */
export function podHost(ns: string, name: string, ordinal: number, headless = `${name}-headless`): string {
  return `${name}-${ordinal}.${headless}.${ns}.svc.cluster.local`;
}

/** The DNS name of Service NAME. */
export function serviceHost(ns: string, name: string): string {
  return `${name}.${ns}.svc.cluster.local`;
}

/**
 * Deletes the pods at once (no grace, as a crashed node would lose them) or gracefully; resolves
 * when none of them is left (the StatefulSet re-creates them in its own order).
 */
export async function deletePods(ns: string, pods: string[], opts: { force?: boolean } = {}): Promise<void> {
  const before = await Promise.all(pods.map((p) => podUid(ns, p)));
  await kubectl(['-n', ns, 'delete', 'pod', ...pods, '--wait=false', ...(opts.force ? ['--force', '--grace-period=0'] : [])]);
  await waitFor(ns, `pods ${pods.join(', ')} deleted`, minutes(3), async () => {
    const now = await Promise.all(pods.map((p) => podUid(ns, p)));
    return now.every((uid, i) => uid !== before[i]);
  });
}

/**
 * Loses member POD's volume, as a failed disk or a lost node with local storage would: its claim
 * CLAIM is deleted (the pvc-protection finalizer keeps it until the pod is gone), then the pod,
 * at once. The StatefulSet re-creates both, and the new claim binds a new, empty volume. Resolves
 * when it has; returns the lost volume's name.
 */
export async function loseVolume(ns: string, pod: string, claim: string): Promise<string> {
  const lost = await claimVolume(ns, claim);
  await kubectl(['-n', ns, 'delete', 'pvc', claim, '--wait=false']);
  await deletePods(ns, [pod], { force: true });
  await waitFor(ns, `claim ${claim} bound to a new volume`, minutes(3), async () => {
    const r = await run(KUBECTL, ['-n', ns, 'get', 'pvc', claim, '-o', 'jsonpath={.spec.volumeName}']);
    return r.code === 0 && r.stdout.trim() !== '' && r.stdout.trim() !== lost;
  });
  return lost;
}

/** What `setUpEngine` deploys: the set NAME with REPLICAS members, as `define` adds it to the chart. */
export interface EngineSetup {
  readonly name: string;
  readonly replicas: number;
  readonly define: (chart: Chart) => void;
  /** A Secret created first, as a user would (`kubectl create secret generic`). */
  readonly secret?: { readonly name: string; readonly data: { [key: string]: string } };
  /** The client pod (`createClientPod`), for tests that run database clients. */
  readonly client?: { readonly image: string; readonly uid: number };
  /** How long the set may take to be Ready. */
  readonly readyWithin: number;
}

/**
 * The setup every engine file shares. Before its tests: a fresh namespace NS (restricted), the
 * Secret, the app synthesized and applied, the client pod, the set Ready. After them: the
 * namespace deleted.
 */
export function setUpEngine(ns: string, setup: EngineSetup): void {
  beforeAll(async () => {
    await requireRealNode();
    await deleteNamespace(ns);
    await createNamespace(ns);
    if (setup.secret) await createSecret(ns, setup.secret.name, setup.secret.data);
    await apply(ns, synth(ns, setup.define));
    if (setup.client) await createClientPod(ns, setup.client.image, setup.client.uid);
    await waitForReady(ns, setup.name, setup.replicas, setup.readyWithin);
    await waitForServiceRouted(ns, setup.name, minutes(2));
  }, setup.readyWithin + minutes(4));
  afterAll(() => deleteNamespace(ns), minutes(6));
}

/**
 * CPU requests sized for the test node: four engine files run at once on its 2 cores, and sets
 * that grow to 5 members beside the others' must still be scheduled (the default request, 250m
 * per member and per init container, would not fit). Limits and memory keep the defaults.
 */
export const NODE_SIZED = {
  resources: { cpu: { request: kplus.Cpu.millis(50) } },
  initContainerResources: { cpu: { request: kplus.Cpu.millis(50) } },
} as const;

/**
 * `setUpEngine` for a replicated preset as the engine files use it: set NAME with 3 members of
 * ENGINE, 1 GiB claims, credentials from Secret `<name>-credentials` holding SECRET, and a client
 * pod on IMAGE (the engine's test image, so its clients are there) as the image's user.
 */
export function setUpPreset(ns: string, preset: { name: string; engine: DatabaseEngine; secret: { [key: string]: string }; image: string; readyWithin: number }): void {
  const secretName = `${preset.name}-credentials`;
  setUpEngine(ns, {
    name: preset.name,
    replicas: 3,
    secret: { name: secretName, data: preset.secret },
    define: (chart) => new StatefulDatabase(chart, preset.name, {
      name: preset.name,
      engine: preset.engine,
      replicas: 3,
      credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', secretName) },
      storage: { size: Size.gibibytes(1) },
      ...NODE_SIZED,
    }),
    client: { image: preset.image, uid: 999 },
    readyWithin: preset.readyWithin,
  });
}

/** The memory limit of POD's CONTAINER, in MiB (a `Mi` or `Gi` quantity, as the presets set it). */
export async function memoryLimitMib(ns: string, pod: string, container = 'main'): Promise<number> {
  const q = (await kubectl(['-n', ns, 'get', 'pod', pod, '-o', `jsonpath={.spec.containers[?(@.name=="${container}")].resources.limits.memory}`])).trim();
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`pod ${pod} container ${container}: memory limit '${q}' is not in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/** The pods Service NAME routes to now: its EndpointSlices' ready endpoints, sorted. */
export async function serviceEndpoints(ns: string, name: string): Promise<string[]> {
  const slices = JSON.parse(await kubectl(['-n', ns, 'get', 'endpointslices', '-l', `kubernetes.io/service-name=${name}`, '-o', 'json']));
  return slices.items.flatMap((slice: any) => (slice.endpoints ?? []).filter((e: any) => e.conditions?.ready).map((e: any) => e.targetRef?.name)).sort();
}

/**
 * Resolves when Service NAME routes: it has ready endpoints and kube-proxy has programmed its
 * cluster IP to them (its `KUBE-SVC-` jump is in the node's nat table). Pods turn Ready before
 * that: a client that connects in between is refused, as on any cluster.
 */
export async function waitForServiceRouted(ns: string, name: string, timeoutMs: number): Promise<void> {
  const jump = new RegExp(`^-A KUBE-SERVICES .*"${ns}/${name}(:[^ "]*)? cluster IP" .*-j KUBE-SVC-`, 'm');
  await waitFor(ns, `Service ${name} routed to its ready endpoints`, timeoutMs, async () => {
    if ((await serviceEndpoints(ns, name)).length === 0) return false;
    const nat = await run('iptables-save', ['-t', 'nat']);
    if (nat.code !== 0) throw new Error(`iptables-save -t nat failed (${nat.code}): ${nat.stderr}`);
    return jump.test(nat.stdout);
  });
}

/** The name of the client pod (see `createClientPod`). */
export const CLIENT = 'client';

/**
 * Starts pod `client` in NS: IMAGE running `sleep infinity` as UID under the restricted profile,
 * the place the tests run database clients from (`exec(ns, CLIENT, ...)`), so that a client never
 * dies with the member it talks to. Resolves when it is Ready.
 */
export async function createClientPod(ns: string, image: string, uid: number): Promise<void> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: CLIENT, namespace: ns, labels: { 'app.kubernetes.io/name': 'e2e-client' } },
    spec: {
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: CLIENT,
        image,
        command: ['sleep', 'infinity'],
        env: [{ name: 'HOME', value: '/tmp' }],
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '512Mi' } },
      }],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  await kubectl(['-n', ns, 'wait', '--for=condition=Ready', `pod/${CLIENT}`, '--timeout=180s'], { timeoutMs: 200_000 });
}

/**
 * Runs SCRIPT in the client pod with SECRET as the first line of its stdin (the script reads it
 * with `read -r pw`, so it never shows in a command line) and INPUT after it.
 */
export function clientExec(ns: string, script: string, secret: string, input = '', timeoutMs = 120_000): Promise<string> {
  return exec(ns, CLIENT, CLIENT, `read -r pw; ${script}`, `${secret}\n${input}`, timeoutMs);
}

/** Patches StatefulSet NAME's database container env (a rolling update, as `kubectl set env`). */
export async function setEnv(ns: string, name: string, container: string, env: { [key: string]: string }): Promise<void> {
  await kubectl(['-n', ns, 'set', 'env', `statefulset/${name}`, '-c', container, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)]);
}

/** Scales StatefulSet NAME (`kubectl scale`). */
export async function scale(ns: string, name: string, replicas: number): Promise<void> {
  await kubectl(['-n', ns, 'scale', `statefulset/${name}`, `--replicas=${replicas}`]);
}

/**
 * Records the order in which the pods of StatefulSet NAME are deleted while FN runs (a rolling
 * update replaces them one at a time). Returns FN's result and the deleted pod names, in order.
 */
export async function recordPodDeletions<T>(ns: string, name: string, fn: () => Promise<T>): Promise<{ result: T; deleted: string[] }> {
  const child = spawn(KUBECTL, ['-n', ns, 'get', 'pods', '-l', `statefulset.kubernetes.io/pod-name`, '--watch-only', '--output-watch-events',
    '-o', 'jsonpath={.type} {.object.metadata.name}{"\\n"}'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const deleted: string[] = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      const [type, pod] = line.trim().split(' ');
      if (type === 'DELETED' && pod?.startsWith(`${name}-`)) deleted.push(pod);
    }
  });
  try {
    await new Promise((r) => setTimeout(r, 1000)); // the watch is in place
    const result = await fn();
    return { result, deleted };
  } finally {
    child.kill('SIGTERM');
  }
}

/** Waits MS milliseconds. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Keeps writing in the background (WRITE every INTERVAL ms) until `stop()`, which resolves to the
 * failed attempts' first error lines. Only writes that succeeded count as acknowledged.
 */
export function startWriter(write: () => Promise<void>, intervalMs = 3000): { stop: () => Promise<string[]> } {
  let running = true;
  const failures: string[] = [];
  const done = (async () => {
    while (running) {
      try {
        await write();
      } catch (err) {
        failures.push(String(err).split('\n').slice(0, 2).join(' '));
      }
      await sleep(intervalMs);
    }
  })();
  return { stop: async () => { running = false; await done; return failures; } };
}

/**
 * The rows a SQL scenario wrote and had acknowledged, in TABLE (`id INT PRIMARY KEY, v ...`):
 * `write()` inserts the next row through the client Service (the primary), `expectAllRows(n)`
 * checks every acknowledged row is on the primary and, once applied, on each of its n - 1 replicas.
 * SQL runs STATEMENT on HOST and returns the rows, one a line.
 */
export function rowLedger(ns: string, name: string, table: string, sql: (host: string, statement: string) => Promise<string>) {
  const acked: number[] = [];
  let nextId = 1;
  const missingOn = async (host: string): Promise<number[]> => {
    const ids = (await sql(host, `SELECT id FROM ${table} ORDER BY id`)).split('\n').filter(Boolean).map(Number);
    return acked.filter((id) => !ids.includes(id));
  };
  return {
    async write(): Promise<void> {
      const id = nextId++;
      await sql(serviceHost(ns, name), `INSERT INTO ${table} (id, v) VALUES (${id}, 'row-${id}')`);
      acked.push(id);
    },
    async expectAllRows(replicas: number): Promise<void> {
      expect(await missingOn(podHost(ns, name, 0))).toEqual([]);
      for (let i = 1; i < replicas; i++) {
        await waitFor(ns, `replica ${i} has every acknowledged row`, minutes(2), async () => (await missingOn(podHost(ns, name, i))).length === 0);
      }
    },
  };
}
