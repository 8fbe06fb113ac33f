// A real Prometheus for the metrics tests: Debian trixie's, run on the host (pod addresses are
// reachable from it), scraping a set's metrics port on each member with the `namespace` and `pod`
// labels a PodMonitor gives, and evaluating the rules of the set's PrometheusRule.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { REPO, kubectl, minutes, sleep, waitFor } from './helpers';
import { containerPid } from './faults';

export const SCRAPE_SECONDS = 5;

/** The rule groups of the PrometheusRule in synthesized YAML, as a Prometheus rule file. */
export function ruleFileOf(yaml: string): string {
  const rule = parseAllDocuments(yaml).map((d) => d.toJS()).find((d) => d?.kind === 'PrometheusRule');
  if (!rule) throw new Error('the synthesized app has no PrometheusRule');
  return JSON.stringify({ groups: rule.spec.groups });
}

/** A Prometheus on 127.0.0.1:PORT. */
export class HostPrometheus {
  private process?: ChildProcess;
  private log = '';

  constructor(private readonly port: number) {}

  /** Starts it: scraping `<pod address>:<metricsPort>` of each pod of NS, with the rules. */
  public async start(ns: string, pods: string[], metricsPort: number, rules: string): Promise<void> {
    const bin = execFileSync('bash', [path.join(REPO, 'tools', 'scripts', 'install-prometheus.sh'), 'prometheus'], { encoding: 'utf-8' }).trim().split('\n').pop()!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-prometheus-'));
    fs.writeFileSync(path.join(dir, 'rules.json'), rules);
    const targets = await Promise.all(pods.map(async (pod) => {
      const ip = (await kubectl(['-n', ns, 'get', 'pod', pod, '-o', 'jsonpath={.status.podIP}'])).trim();
      return { targets: [`${ip}:${metricsPort}`], labels: { namespace: ns, pod } };
    }));
    fs.writeFileSync(path.join(dir, 'prometheus.json'), JSON.stringify({
      global: { scrape_interval: `${SCRAPE_SECONDS}s`, evaluation_interval: `${SCRAPE_SECONDS}s` },
      rule_files: [path.join(dir, 'rules.json')],
      scrape_configs: [{ job_name: 'metrics', static_configs: targets }],
    }));
    this.process = spawn(path.join(bin, 'prometheus'), [
      `--config.file=${path.join(dir, 'prometheus.json')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${this.port}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => { this.log = (this.log + b.toString()).slice(-20000); };
    this.process.stdout?.on('data', keep);
    this.process.stderr?.on('data', keep);
    await waitFor(ns, 'Prometheus ready', minutes(1), async () => (await fetch(`http://127.0.0.1:${this.port}/-/ready`).catch(() => undefined))?.ok === true);
  }

  /** Stops it; its log is kept in $CLUSTER_DIR/e2e/<name>.log. */
  public async stop(name: string): Promise<void> {
    this.process?.kill('SIGTERM');
    await sleep(1000);
    if (process.env.CLUSTER_DIR) fs.writeFileSync(path.join(process.env.CLUSTER_DIR, 'e2e', `${name}.log`), this.log);
  }

  /** An instant query's result. */
  public async query(promql: string): Promise<Array<{ metric: { [k: string]: string }; value: [number, string] }>> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = await res.json() as any;
    if (body.status !== 'success') throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
    return body.data.result;
  }

  /** The alerts named NAME of database DATABASE, pending or firing, as Prometheus holds them now. */
  public async alerts(name: string, database: string): Promise<Array<{ state: string; labels: { [k: string]: string } }>> {
    const body = await (await fetch(`http://127.0.0.1:${this.port}/api/v1/alerts`)).json() as any;
    return body.data.alerts.filter((a: any) => a.labels.alertname === name && a.labels.database === database);
  }

  /** Waits until alert NAME fires, recording every state it was seen in. */
  public async untilFiring(ns: string, name: string, database: string, timeoutMs: number): Promise<{ states: Set<string>; pods: string[] }> {
    const states = new Set<string>();
    let pods: string[] = [];
    await waitFor(ns, `${name} firing`, timeoutMs, async () => {
      const now = await this.alerts(name, database);
      now.forEach((a) => states.add(a.state));
      pods = now.filter((a) => a.state === 'firing').map((a) => a.labels.pod).sort();
      return states.has('firing');
    });
    return { states, pods };
  }

  /** Waits until alert NAME is gone (resolved). */
  public async untilResolved(ns: string, name: string, database: string, timeoutMs: number): Promise<void> {
    await waitFor(ns, `${name} resolved`, timeoutMs, async () => (await this.alerts(name, database)).length === 0);
  }
}

/**
 * The alerts NAMES of database DATABASE as a fault goes on: every state each was seen in, and when
 * it first fired, in seconds after SINCE (the fault's start). `look()` takes one reading.
 */
export class AlertWatch {
  private readonly seen: Map<string, { states: Set<string>; firedAfter: number }>;

  constructor(private readonly prometheus: HostPrometheus, private readonly database: string, names: string[], readonly since: number) {
    this.seen = new Map(names.map((name) => [name, { states: new Set<string>(), firedAfter: NaN }]));
  }

  /** One reading of every alert watched. */
  public async look(): Promise<void> {
    for (const [name, s] of this.seen) {
      for (const a of await this.prometheus.alerts(name, this.database)) {
        s.states.add(a.state);
        if (a.state === 'firing' && Number.isNaN(s.firedAfter)) s.firedAfter = (Date.now() - this.since) / 1000;
      }
    }
  }

  /** Whether alert NAME was seen firing. */
  public fired(name: string): boolean {
    return this.entry(name).states.has('firing');
  }

  /** Seconds after `since` when alert NAME was first seen firing (NaN if it never was). */
  public firedAfter(name: string): number {
    return this.entry(name).firedAfter;
  }

  /** Each alert's states, and when it fired, for the log: `X pending+firing (firing 55 s after WHAT); Y quiet`. */
  public summary(what: string): string {
    return [...this.seen].map(([name, s]) =>
      `${name} ${[...s.states].sort().join('+') || 'quiet'}${Number.isNaN(s.firedAfter) ? '' : ` (firing ${s.firedAfter.toFixed(0)} s after ${what})`}`).join('; ');
  }

  /**
   * Keeps looking (every 2 s, after TICK, e.g. a write when one is due) until at least AT_LEAST ms
   * have passed since `since` and every alert of FIRE has fired; throws on timeout with the summary.
   */
  public async hold(ns: string, what: string, opts: { fire: string[]; atLeastMs: number; timeoutMs: number; tick?: () => Promise<void> }): Promise<void> {
    try {
      await waitFor(ns, `${what} for ${opts.atLeastMs / 1000} s, ${opts.fire.join(' and ')} firing`, opts.timeoutMs, async () => {
        await opts.tick?.();
        await this.look();
        return Date.now() - this.since >= opts.atLeastMs && opts.fire.every((name) => this.fired(name));
      });
    } catch (e) {
      throw new Error(`${String(e)}\nalerts seen: ${this.summary(`${what} began`)}`);
    }
  }

  private entry(name: string): { states: Set<string>; firedAfter: number } {
    const s = this.seen.get(name);
    if (!s) throw new Error(`alert ${name} is not watched`);
    return s;
  }
}

/** A container's cgroup (v1): CPU time used so far (ns), memory now and the most it used (bytes). */
export async function containerUsage(ns: string, pod: string, container: string): Promise<{ cpuNs: number; maxMemory: number; memory: number }> {
  const pid = await containerPid(ns, pod, container);
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf-8').split('\n');
  const of = (ctrl: string) => {
    const line = lines.find((l) => l.split(':')[1]?.split(',').includes(ctrl));
    if (!line) throw new Error(`${pod}/${container}: no ${ctrl} cgroup (is this cgroup v1?)`);
    return line.split(':')[2];
  };
  const read = (file: string) => Number(fs.readFileSync(file, 'utf-8').trim());
  return {
    cpuNs: read(`/sys/fs/cgroup/cpuacct/${of('cpuacct')}/cpuacct.usage`),
    maxMemory: read(`/sys/fs/cgroup/memory/${of('memory')}/memory.max_usage_in_bytes`),
    memory: read(`/sys/fs/cgroup/memory/${of('memory')}/memory.usage_in_bytes`),
  };
}

/**
 * Measures the `metrics` containers of PODS from now on; `report()` gives each one's average CPU
 * (millicores) and memory, checks them against the sidecar's limits, and keeps them in
 * $CLUSTER_DIR/e2e/<name>.txt.
 */
export async function measureExporters(ns: string, pods: string[]): Promise<{ report: (name: string) => Promise<string[]> }> {
  const start = new Map<string, { cpuNs: number; at: number }>();
  for (const pod of pods) start.set(pod, { cpuNs: (await containerUsage(ns, pod, 'metrics')).cpuNs, at: Date.now() });
  return {
    report: async (name: string) => {
      const rows: string[] = [];
      for (const pod of pods) {
        const s = start.get(pod)!;
        const now = await containerUsage(ns, pod, 'metrics');
        const seconds = (Date.now() - s.at) / 1000;
        const millicores = (now.cpuNs - s.cpuNs) / 1e6 / seconds;
        rows.push(`${pod}/metrics: cpu ${millicores.toFixed(2)}m average over ${seconds.toFixed(0)} s, memory ${(now.memory / 2 ** 20).toFixed(1)} MiB now, ${(now.maxMemory / 2 ** 20).toFixed(1)} MiB at most`);
        if (millicores >= 200 || now.maxMemory >= 128 * 2 ** 20) throw new Error(`${pod}/metrics outgrew its limits (200m, 128Mi): ${rows[rows.length - 1]}`);
      }
      console.log(`exporter use, scraped every ${SCRAPE_SECONDS} s:\n${rows.join('\n')}`);
      if (process.env.CLUSTER_DIR) fs.writeFileSync(path.join(process.env.CLUSTER_DIR, 'e2e', `${name}.txt`), rows.join('\n') + '\n');
      return rows;
    },
  };
}
