// A minimal Kubernetes client for the cluster suite: REST calls and watches over node's https
// (no client library), and kubectl through child_process for what a user would run by hand
// (apply, dry-run, scale, patch, cordon, create secret). Reads KUBECONFIG, which tools/cluster/test.sh
// (or `eval "$(tools/cluster/up.sh)"`) sets.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';

/** The repository root. */
export const REPO = path.resolve(__dirname, '..', '..');

interface Connection {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly agent: https.Agent;
}

let conn: Connection | undefined;

function connection(): Connection {
  if (conn) return conn;
  const file = process.env.KUBECONFIG;
  if (!file) throw new Error('KUBECONFIG is not set: run the suite through tools/cluster/test.sh (npm run test:cluster), or eval "$(tools/cluster/up.sh)" first');
  const cfg = parse(fs.readFileSync(file, 'utf8'));
  const ctx = cfg.contexts.find((c: any) => c.name === cfg['current-context']).context;
  const cluster = cfg.clusters.find((c: any) => c.name === ctx.cluster).cluster;
  const user = cfg.users.find((u: any) => u.name === ctx.user).user;
  const ca = cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64')
    : fs.readFileSync(cluster['certificate-authority']);
  const url = new URL(cluster.server);
  conn = {
    host: url.hostname,
    port: Number(url.port || 443),
    token: user.token,
    // no keep-alive: a pooled socket the server has closed meanwhile fails the next request with
    // ECONNRESET; a fresh loopback TLS connection per call costs a few milliseconds
    agent: new https.Agent({ ca, keepAlive: false }),
  };
  return conn;
}

/** Closes the keep-alive sockets, so jest can exit. */
export function closeConnections(): void {
  conn?.agent.destroy();
  conn = undefined;
}

export interface Response {
  readonly status: number;
  readonly body: any;
}

/**
 * One REST call. The body is parsed as JSON when it is JSON. Never throws on an HTTP status;
 * a GET is retried on connection errors.
 */
export async function request(method: string, apiPath: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await requestOnce(method, apiPath, body, contentType);
    } catch (e) {
      if (method !== 'GET' || attempt >= 3) throw e;
      await sleep(200 * attempt);
    }
  }
}

function requestOnce(method: string, apiPath: string, body: unknown, contentType: string): Promise<Response> {
  const c = connection();
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: c.host, port: c.port, path: apiPath, method, agent: c.agent, timeout: 30_000,
      headers: {
        'Authorization': `Bearer ${c.token}`,
        'Accept': 'application/json',
        ...(data === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) }),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: any = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath}: timed out`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** GET that must succeed (2xx); returns the object. */
export async function get(apiPath: string): Promise<any> {
  const r = await request('GET', apiPath);
  if (r.status < 200 || r.status > 299) throw new Error(`GET ${apiPath}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
  return r.body;
}

/** GET that returns undefined on 404. */
export async function getOrUndefined(apiPath: string): Promise<any> {
  const r = await request('GET', apiPath);
  if (r.status === 404) return undefined;
  if (r.status < 200 || r.status > 299) throw new Error(`GET ${apiPath}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
  return r.body;
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: any;
}

export interface Watch {
  /** Resolves once the server has answered the watch request (the watch is in place). */
  readonly started: Promise<void>;
  /** Ends the watch. */
  stop(): void;
}

/**
 * A REST watch (`?watch=1`), one JSON event per line, delivered in the order the server sends
 * them. When `resourceVersion` is given, only changes after that version arrive; otherwise the
 * server first sends a synthetic ADDED for every existing object. Calls `onEnd` when the server
 * closes the stream (not after stop()).
 */
export function watch(apiPath: string, onEvent: (e: WatchEvent) => void, opts: { resourceVersion?: string; onEnd?: (err?: Error) => void } = {}): Watch {
  const c = connection();
  const sep = apiPath.includes('?') ? '&' : '?';
  const rv = opts.resourceVersion ? `&resourceVersion=${encodeURIComponent(opts.resourceVersion)}` : '';
  let stopped = false;
  let resolveStarted!: () => void;
  let rejectStarted!: (e: Error) => void;
  const started = new Promise<void>((res, rej) => { resolveStarted = res; rejectStarted = rej; });
  const req = https.request({
    host: c.host, port: c.port, method: 'GET', path: `${apiPath}${sep}watch=1${rv}`,
    // its own agent-less socket: a long-lived stream must not hold a keep-alive slot
    ca: (c.agent.options as https.AgentOptions).ca, agent: false,
    headers: { Authorization: `Bearer ${c.token}`, Accept: 'application/json' },
  }, (res) => {
    if (res.statusCode !== 200) {
      rejectStarted(new Error(`watch ${apiPath}: HTTP ${res.statusCode}`));
      res.resume();
      return;
    }
    resolveStarted();
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line && !stopped) onEvent(JSON.parse(line));
      }
    });
    res.on('end', () => { if (!stopped) opts.onEnd?.(); });
    res.on('error', (e) => { if (!stopped) opts.onEnd?.(e); });
  });
  req.on('error', (e) => {
    rejectStarted(e);
    if (!stopped) opts.onEnd?.(e);
  });
  req.end();
  return {
    started,
    stop: () => {
      stopped = true;
      req.destroy();
    },
  };
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let kubectlPath: string | undefined;

/** The kubectl of the cluster build ($KUBECTL, $CLUSTER_BIN/kubectl, or build.sh --print-bin). */
export function kubectlBin(): string {
  if (kubectlPath) return kubectlPath;
  if (process.env.KUBECTL) return (kubectlPath = process.env.KUBECTL);
  const bin = process.env.CLUSTER_BIN
    ?? spawnSync('bash', [path.join(REPO, 'tools', 'cluster', 'build.sh'), '--print-bin'], { encoding: 'utf8' }).stdout.trim();
  return (kubectlPath = path.join(bin, 'kubectl'));
}

/**
 * Runs kubectl asynchronously (watches and the stand-in provisioner keep running meanwhile).
 * Killed, and reported as exit -1, after `timeoutMs`.
 */
export function kubectl(args: string[], stdin?: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(kubectlBin(), ['--request-timeout=30s', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stderr += `\n(killed by the suite after ${timeoutMs / 1000}s)`;
      p.kill('SIGKILL');
    }, timeoutMs);
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
    p.stdin.end(stdin ?? '');
  });
}

/** kubectl that must exit 0. */
export async function kubectlOk(args: string[], stdin?: string): Promise<Run> {
  const r = await kubectl(args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r;
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined/false, and
 * returns it. On timeout, throws with `what` and the last state `describe` gives.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 90_000,
  describe?: () => Promise<string>, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const state = describe ? await describe().catch((e) => `(describe failed: ${e})`) : '';
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? `; last error: ${lastError}` : ''}${state ? `\n${state}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Ready condition of a pod, as 'True' / 'False' / undefined. */
export function podReady(pod: any): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

/**
 * What a pod of ServiceAccount SA in NS would have mounted, in a new directory under the system's
 * temporary one: its token, the namespace and the API server's CA (kube-api.sh's SA_DIR); and the
 * API server's URL (KUBE_API), from KUBECONFIG.
 */
export async function serviceAccountFiles(ns: string, sa: string): Promise<{ dir: string; api: string }> {
  const token = (await kubectlOk(['-n', ns, 'create', 'token', sa])).stdout.trim();
  const cfg = parse(fs.readFileSync(process.env.KUBECONFIG as string, 'utf8'));
  const cluster = cfg.clusters[0].cluster;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${ns}-`));
  fs.writeFileSync(path.join(dir, 'token'), token);
  fs.writeFileSync(path.join(dir, 'namespace'), ns);
  fs.writeFileSync(path.join(dir, 'ca.crt'), cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64') : fs.readFileSync(cluster['certificate-authority']));
  return { dir, api: cluster.server };
}

/** Creates pod NAME in NS: a restricted pause container, no token (an object for labels and patches). */
export async function createPausePod(ns: string, name: string): Promise<void> {
  await kubectlOk(['-n', ns, 'apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    },
  }));
}
