// Faults as they really happen, for any engine's scenario on the real node (test/e2e/). They act
// from the host, as root, on the test node's own containers: the suite runs as root because the
// node does (tools/cluster/node-up.sh), and tools/cluster/test.sh sets CLUSTER_DIR, whose containerd they ask.
//   crash      SIGKILL to the container's init, sent from the host (a container's PID 1 cannot be
//              killed from inside its own PID namespace); every process of the container dies at
//              once, no shutdown code runs; the kubelet restarts the container.
//   pause      SIGSTOP to every process of the container for N seconds, then SIGCONT (a stalled
//              disk or a long GC pause looks like this from outside).
//   partition  iptables DROP rules inside the pod's network namespace (nsenter from the host) for
//              traffic to and from chosen peers, and/or the API server's Service address; healed
//              by deleting exactly those rules. Only pod and Service addresses of this node are
//              ever named, so nothing is sent or blocked anywhere else.
//   slowStart  a member held stopped (every container of its pod, as each appears) for N seconds
//              from the moment it starts: it comes up later than any timer in the scripts.
//   nodeLoss   a member's pod and its volume gone, and the pod kept from coming back for N seconds
//              (the API server refuses to create it: a ValidatingAdmissionPolicy naming that pod
//              only, so the other pods of the node, other suites' included, go on as before).
//   diskFull   a member's volume filled up (a file that takes every free block of a small
//              filesystem mounted for it), then freed.
import * as fs from 'fs';
import * as path from 'path';
import { claimVolume, deletePods, kubectl, minutes, podUid, run, sleep, waitFor } from './helpers';

const POD_CIDR = process.env.POD_CIDR ?? '10.250.0.0/24';
const SERVICE_CIDR = process.env.SERVICE_CIDR ?? '10.96.0.0/16';
const PARTITION_MARK = 'cdk8s-stateful e2e partition';

function clusterDir(): string {
  const dir = process.env.CLUSTER_DIR;
  if (!dir) throw new Error('CLUSTER_DIR is not set: the fault helpers act on the node tools/cluster/test.sh started (npm run test:e2e)');
  return dir;
}

/** Runs a host command as root; throws with its output when it fails. */
async function host(cmd: string, args: string[]): Promise<string> {
  if (process.getuid?.() !== 0) throw new Error(`the fault helpers need root (they signal containers and enter network namespaces): ${cmd} ${args.join(' ')}`);
  const r = await run(cmd, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()} ${r.stdout.trim()}`);
  return r.stdout;
}

/** `ctr` against the test node's containerd (its own socket under CLUSTER_DIR), CRI namespace. */
function ctr(args: string[]): Promise<string> {
  return host('ctr', ['--address', path.join(clusterDir(), 'containerd', 'containerd.sock'), '--namespace', 'k8s.io', ...args]);
}

/** The host PID of the running task of container ID, or undefined. */
async function taskPid(id: string): Promise<number | undefined> {
  const row = (await ctr(['tasks', 'ls'])).split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === id && f[2] === 'RUNNING');
  return row ? Number(row[1]) : undefined;
}

/** The containerd id of CONTAINER in POD, as the kubelet reports it ('' when it has none). */
async function containerId(ns: string, pod: string, container: string): Promise<string> {
  const out = await kubectl(['-n', ns, 'get', 'pod', pod, '-o', `jsonpath={.status.containerStatuses[?(@.name=="${container}")].containerID}`]);
  return out.trim().replace(/^containerd:\/\//, '');
}

/**
 * The host PID of CONTAINER's init in POD (the process the container runs as its PID 1). A
 * container the kubelet is restarting right now (its status still names the task that died, or
 * names one not started yet) is waited for, up to 30 s: a fault strikes a running server.
 */
export async function containerPid(ns: string, pod: string, container = 'main'): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const id = await containerId(ns, pod, container);
    const pid = id ? await taskPid(id) : undefined;
    if (pid) return pid;
    if (Date.now() > deadline) throw new Error(`${ns}/${pod} container ${container}: no running task for 30 s (containerID '${id}')`);
    await sleep(500);
  }
}

/** Every host PID in the PID namespace whose init is INIT (the container's processes). */
export function processesOf(init: number): number[] {
  const ns = fs.readlinkSync(`/proc/${init}/ns/pid`);
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/ns/pid`) === ns;
    } catch {
      return false; // gone meanwhile
    }
  });
}

async function restartCount(ns: string, pod: string, container: string): Promise<number> {
  const out = await kubectl(['-n', ns, 'get', 'pod', pod, '-o', `jsonpath={.status.containerStatuses[?(@.name=="${container}")].restartCount}`]);
  return Number(out.trim() || '0');
}

/**
 * Crashes CONTAINER of POD: SIGKILL to its init from the host. Resolves once the kubelet has seen
 * it die (its restart count went up); the caller waits for the member to be back.
 */
export async function crash(ns: string, pod: string, container = 'main'): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('crash needs root: it signals the container from the host');
  const before = await restartCount(ns, pod, container);
  process.kill(await containerPid(ns, pod, container), 'SIGKILL');
  await waitFor(ns, `${pod}/${container} restarted after SIGKILL`, minutes(2), async () => (await restartCount(ns, pod, container)) > before);
}

/**
 * How long the kubelet took to start CONTAINER of POD again after it last died (its back-off: a
 * container that crashed within the last minutes waits 10 s, 20 s, ... before its next start), in
 * ms, from the pod's status (whole seconds).
 */
export async function restartDelayMs(ns: string, pod: string, container = 'main'): Promise<number> {
  const status = JSON.parse(await kubectl(['-n', ns, 'get', 'pod', pod, '-o', `jsonpath={.status.containerStatuses[?(@.name=="${container}")]}`]));
  const died = status.lastState?.terminated?.finishedAt;
  const started = status.state?.running?.startedAt;
  if (!died || !started) throw new Error(`${ns}/${pod} container ${container}: no restart in its status (${JSON.stringify(status.state)} after ${JSON.stringify(status.lastState)})`);
  return Date.parse(started) - Date.parse(died);
}

/** Stops every process of CONTAINER of POD (SIGSTOP) for SECONDS, then lets them go on (SIGCONT). */
export async function pause(ns: string, pod: string, seconds: number, container = 'main'): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('pause needs root: it signals the container from the host');
  const pids = processesOf(await containerPid(ns, pod, container));
  pids.forEach((pid) => signal(pid, 'SIGSTOP'));
  try {
    await sleep(seconds * 1000);
  } finally {
    pids.forEach((pid) => signal(pid, 'SIGCONT'));
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // it exited meanwhile
  }
}

/** Is IPV4 inside CIDR? */
export function inCidr(ipv4: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return /^\d+\.\d+\.\d+\.\d+$/.test(ipv4) && Math.floor(toInt(ipv4) / size) === Math.floor(toInt(base) / size);
}

async function podIp(ns: string, pod: string): Promise<string> {
  const ip = (await kubectl(['-n', ns, 'get', 'pod', pod, '-o', 'jsonpath={.status.podIP}'])).trim();
  if (!inCidr(ip, POD_CIDR)) throw new Error(`${ns}/${pod}: address '${ip}' is not in this node's pod network ${POD_CIDR}`);
  return ip;
}

/** The iptables rules that cut the pod off from ADDRESSES, both ways (for -I and -D). */
function partitionRules(addresses: string[]): string[][] {
  return addresses.flatMap((a) => [
    ['INPUT', '-s', a, '-m', 'comment', '--comment', PARTITION_MARK, '-j', 'DROP'],
    ['OUTPUT', '-d', a, '-m', 'comment', '--comment', PARTITION_MARK, '-j', 'DROP'],
  ]);
}

/** iptables ARGS inside the network namespace of POD (entered from the host through its main container's init). */
async function podIptables(ns: string, pod: string, args: string[]): Promise<string> {
  const pid = await containerPid(ns, pod);
  return host('nsenter', ['--target', String(pid), '--net', 'iptables', '-w', ...args]);
}

export interface PartitionSpec {
  /** Peers (pods of NS) whose traffic to and from POD is dropped. */
  readonly peers?: string[];
  /** Also drop traffic between POD and the API server (its Service address). */
  readonly apiServer?: boolean;
}

/**
 * Partitions POD: its traffic to and from the PEERS (their pod addresses) and, if asked, the API
 * server (the `kubernetes` Service address) is dropped inside its own network namespace. Returns
 * `heal()`, which deletes exactly those rules (and checks that none is left).
 */
export async function partition(ns: string, pod: string, spec: PartitionSpec): Promise<{ heal: () => Promise<void>; addresses: string[] }> {
  const addresses = await Promise.all((spec.peers ?? []).map((p) => podIp(ns, p)));
  if (spec.apiServer) {
    const ip = (await kubectl(['-n', 'default', 'get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    if (!inCidr(ip, SERVICE_CIDR)) throw new Error(`the kubernetes Service address '${ip}' is not in ${SERVICE_CIDR}`);
    addresses.push(ip);
  }
  if (addresses.length === 0) throw new Error(`partition of ${pod}: no peer and no API server given`);
  for (const rule of partitionRules(addresses)) await podIptables(ns, pod, ['-I', ...rule]);
  const heal = async () => {
    for (const rule of partitionRules(addresses)) await podIptables(ns, pod, ['-D', ...rule]);
    const left = await podIptables(ns, pod, ['-S']);
    if (left.includes(PARTITION_MARK)) throw new Error(`${pod}: partition rules left after healing:\n${left}`);
  };
  return { heal, addresses };
}

/** Partitions POD as `partition` does for SECONDS, then heals it. */
export async function partitionFor(ns: string, pod: string, spec: PartitionSpec, seconds: number): Promise<void> {
  const { heal } = await partition(ns, pod, spec);
  try {
    await sleep(seconds * 1000);
  } finally {
    await heal();
  }
}

/** Containers of POD with a running task, from containerd's own labels: [id, host PID]. */
async function podTasks(ns: string, pod: string): Promise<[string, number][]> {
  const ids = (await ctr(['containers', 'ls', '-q', `labels."io.kubernetes.pod.namespace"==${ns},labels."io.kubernetes.pod.name"==${pod}`]))
    .split('\n').map((l) => l.trim()).filter(Boolean);
  const tasks = new Map((await ctr(['tasks', 'ls'])).split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[2] === 'RUNNING').map((f) => [f[0], Number(f[1])]));
  return ids.filter((id) => tasks.has(id)).map((id) => [id, tasks.get(id) as number]);
}

/**
 * Makes POD slow to start: from now on, for SECONDS, every container of it that runs (init
 * containers included, each as it appears, within milliseconds of its first instruction; the
 * pause container too, which is harmless) is held stopped; then all are let go. Start it right
 * before the pod is (re)created.
 */
export async function slowStart(ns: string, pod: string, seconds: number): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('slowStart needs root: it signals the containers from the host');
  const runs = watchRuns(ns, pod, false);
  const stopped = new Set<number>();
  const watch = everyTenMs(() => {
    for (const run of runs()) {
      for (const pid of runProcesses(run).filter((p) => !stopped.has(p))) {
        signal(pid, 'SIGSTOP');
        stopped.add(pid);
      }
    }
  });
  try {
    await sleep(seconds * 1000);
  } finally {
    await watch.stop();
    stopped.forEach((pid) => signal(pid, 'SIGCONT'));
  }
}

/** The ValidatingAdmissionPolicy (and binding) that keeps pod NS/POD from being created. */
function keepOffPolicy(ns: string, pod: string): object {
  const name = `e2e-keep-off.${ns}.${pod}`;
  const policy = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
        resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
      },
      validations: [{ expression: `object.metadata.name != '${pod}'`, message: `${KEPT_OFF} ${ns}/${pod}` }],
    },
  };
  const binding = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name }, spec: { policyName: name, validationActions: ['Deny'] } };
  return { apiVersion: 'v1', kind: 'List', items: [policy, binding] };
}
const KEPT_OFF = 'e2e fault: kept off the node:';

/** Whether the API server refuses pod NS/POD now: a server-side dry run of its creation goes through admission. */
async function keptOff(ns: string, pod: string): Promise<boolean> {
  const probe = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace: ns },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'probe', image: 'registry.k8s.io/pause:3.10', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    },
  };
  const r = await run(process.env.KUBECTL ?? 'kubectl', ['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(probe) });
  return `${r.stdout}${r.stderr}`.includes(`${KEPT_OFF} ${ns}/${pod}`);
}

/**
 * Keeps pod NS/POD from being created, as a node that is gone keeps its pod from running: the API
 * server refuses it (the StatefulSet controller retries), while every other pod is scheduled as
 * usual. Resolves once the refusal is in force; the returned function lifts it, waits until it is
 * lifted, and makes the pod's StatefulSet look again at once (an annotation on the set: after
 * minutes of refusals, its controller's retry would otherwise come only after its back-off).
 */
async function keepOff(ns: string, pod: string): Promise<() => Promise<void>> {
  const policy = JSON.stringify(keepOffPolicy(ns, pod));
  await kubectl(['apply', '-f', '-'], { input: policy });
  await waitFor(ns, `the API server to refuse pod ${pod}`, minutes(1), () => keptOff(ns, pod));
  return async () => {
    await kubectl(['delete', '--ignore-not-found', '-f', '-'], { input: policy });
    await waitFor(ns, `the API server to take pod ${pod} again`, minutes(1), async () => !(await keptOff(ns, pod)));
    const set = pod.replace(/-\d+$/, '');
    await kubectl(['-n', ns, 'annotate', '--overwrite', 'statefulset', set, `e2e.cdk8s-stateful.dev/let-in=${pod}-${Date.now()}`]);
  };
}

/**
 * Loses member POD with its volume as a node that is gone for good would: its claim CLAIM is
 * deleted, then the pod at once, and for AWAY seconds the replacement cannot be created (see
 * `keepOff`; every other pod goes on). Then it can again, and the member
 * comes back on a new, empty volume. Resolves when its claim is bound to that new volume.
 */
export async function nodeLoss(ns: string, pod: string, claim: string, awaySeconds: number): Promise<void> {
  const lost = await claimVolume(ns, claim);
  const letIn = await keepOff(ns, pod);
  try {
    await kubectl(['-n', ns, 'delete', 'pvc', claim, '--wait=false']);
    await deletePods(ns, [pod], { force: true });
    await sleep(awaySeconds * 1000);
  } finally {
    await letIn();
  }
  await waitFor(ns, `claim ${claim} bound to a new volume`, minutes(3), async () => {
    const r = await run(process.env.KUBECTL ?? 'kubectl', ['-n', ns, 'get', 'pvc', claim, '-o', 'jsonpath={.spec.volumeName}']);
    return r.code === 0 && r.stdout.trim() !== '' && r.stdout.trim() !== lost;
  });
}

/** The host directory of the `local` volume bound to claim CLAIM of NS (under the test node's directory). */
export async function volumeDirectory(ns: string, claim: string): Promise<string> {
  const volume = await claimVolume(ns, claim);
  const dir = (await kubectl(['get', 'pv', volume, '-o', 'jsonpath={.spec.local.path}'])).trim();
  if (!dir.startsWith(`${clusterDir()}/`)) throw new Error(`${claim}: volume path '${dir}' is not under ${clusterDir()}`);
  return dir;
}

/**
 * Fills member POD's volume (claim CLAIM): a file in it takes every free block, until `free()`
 * deletes it. The volume must be a filesystem of its own (a `local` volume on the node is a
 * directory of the host's disk, which this helper refuses to fill): pass SIZE_MIB to have the
 * volume's directory turned into a small tmpfs first (the member's pod is deleted, its data
 * copied in, and the pod comes back on it).
 */
export async function diskFull(ns: string, pod: string, claim: string, sizeMib = 64): Promise<{ free: () => Promise<void> }> {
  const dir = await volumeDirectory(ns, claim);
  const mounted = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir);
  if (!mounted) {
    // the pod goes (and cannot come back: it is kept off), its data moves onto a tmpfs of
    // SIZE_MIB mounted on the same path, then it comes back on it
    const letIn = await keepOff(ns, pod);
    try {
      await deletePods(ns, [pod]);
      const copy = `${dir}.full-copy`;
      await host('cp', ['-a', dir, copy]);
      await host('mount', ['-t', 'tmpfs', '-o', `size=${sizeMib}m,mode=2775`, 'cdk8s-e2e-full', dir]);
      await host('cp', ['-a', `${copy}/.`, dir]);
      await host('rm', ['-rf', copy]);
    } finally {
      await letIn();
    }
  }
  const filler = path.join(dir, '.e2e-disk-full');
  // dd stops at ENOSPC (exit 1): that is the point
  await run('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M'], { timeoutMs: 60_000 });
  const df = await host('df', ['-k', '--output=avail', dir]);
  const avail = Number(df.trim().split('\n').pop());
  if (avail > 1024) throw new Error(`${dir} still has ${avail} KiB free after filling it`);
  return { free: async () => fs.rmSync(filler, { force: true }) };
}

/**
 * The running containers named CONTAINER of pod POD as it is now (its current uid: not those of a
 * deleted pod of the same name still stopping), from containerd's own labels: [id, host PID of their init].
 */
async function namedTasks(ns: string, pod: string, container: string): Promise<[string, number][]> {
  const uid = await podUid(ns, pod);
  if (!uid) return [];
  const labels = `labels."io.kubernetes.pod.uid"==${uid},labels."io.kubernetes.container.name"==${container}`;
  const ids = new Set((await ctr(['containers', 'ls', '-q', labels])).split('\n').map((l) => l.trim()).filter(Boolean));
  return (await podTasks(ns, pod)).filter(([id]) => ids.has(id));
}

/** The CFS quota of the CPU cgroup of host process PID: the file and what a PERCENT of one core is written as (cgroup v1 or v2). */
function cpuQuota(pid: number, percent: number): { file: string; value: string } {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').map((l) => l.split(':'));
  const line = lines.find((f) => f.length >= 3 && f[1].split(',').includes('cpu')) ?? lines.find((f) => f[0] === '0' && f[1] === '');
  const quota = line ? cgroupQuota(line[2], percent) : undefined;
  if (!quota) throw new Error(`process ${pid}: no CPU quota file for its cgroup (${line ? line[2] : `none in /proc/${pid}/cgroup`})`);
  return quota;
}

/** The directory of the CPU cgroup at PATH (a runtime's cgroupsPath), cgroup v1 or v2, once it exists. */
function cpuCgroupDir(cgroupPath: string): { dir: string; v2: boolean } | undefined {
  for (const c of ['cpu', 'cpu,cpuacct']) {
    const dir = path.join('/sys/fs/cgroup', c, cgroupPath);
    if (fs.existsSync(path.join(dir, 'cpu.cfs_quota_us'))) return { dir, v2: false };
  }
  const dir = path.join('/sys/fs/cgroup', cgroupPath);
  return fs.existsSync(path.join(dir, 'cpu.max')) ? { dir, v2: true } : undefined;
}

/** The CPU quota file of the cgroup at PATH and the value giving PERCENT of one core. */
function cgroupQuota(cgroupPath: string, percent: number): { file: string; value: string } | undefined {
  const c = cpuCgroupDir(cgroupPath);
  if (!c) return undefined;
  if (c.v2) return { file: path.join(c.dir, 'cpu.max'), value: `${Math.max(1000, Math.round(1000 * percent))} 100000` };
  const period = Number(fs.readFileSync(path.join(c.dir, 'cpu.cfs_period_us'), 'utf8'));
  return { file: path.join(c.dir, 'cpu.cfs_quota_us'), value: String(Math.max(1000, Math.round(period * percent / 100))) };
}

/** A container run (the pod's sandbox too) as containerd's task bundle on the host describes it. */
interface Run { id: string; container: string; cgroup: string }

/**
 * Watches the runs of pod NS/POD through containerd's task bundles on the host: each is written
 * before its run starts, and reading it costs no call to containerd (which, on a loaded machine,
 * takes seconds, long enough for a server to start and listen unseen). `runs()`: the pod's runs
 * whose bundle is there now; with `onlyNew`, not those that existed when the watch began.
 */
function watchRuns(ns: string, pod: string, onlyNew: boolean): () => Run[] {
  const dir = path.join(clusterDir(), 'containerd', 'state', 'io.containerd.runtime.v2.task', 'k8s.io');
  if (!fs.existsSync(dir)) throw new Error(`no containerd task bundles at ${dir}`);
  const known = new Map<string, Run | undefined>(onlyNew ? fs.readdirSync(dir).map((id) => [id, undefined]) : []);
  return () => {
    const runs: Run[] = [];
    for (const id of fs.readdirSync(dir)) {
      if (!known.has(id)) {
        let config: any;
        try {
          config = JSON.parse(fs.readFileSync(path.join(dir, id, 'config.json'), 'utf8'));
        } catch {
          continue; // being written, or gone: the next round
        }
        const a = config.annotations ?? {};
        const mine = a['io.kubernetes.cri.sandbox-namespace'] === ns && a['io.kubernetes.cri.sandbox-name'] === pod && config.linux?.cgroupsPath;
        known.set(id, mine ? { id, container: a['io.kubernetes.cri.container-name'] ?? '', cgroup: config.linux.cgroupsPath } : undefined);
      }
      const run = known.get(id);
      if (run) runs.push(run);
    }
    return runs;
  };
}

/** The processes of RUN that run its own code (not runc's init, which has not started it yet). */
function runProcesses(run: Run): number[] {
  const c = cpuCgroupDir(run.cgroup);
  if (!c) return [];
  return fs.readFileSync(path.join(c.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number).filter((pid) => {
    try {
      return !fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('runc');
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** Runs ROUND every 10 ms until `stop()`, which resolves once the last round ended. */
function everyTenMs(round: () => void): { stop: () => Promise<void> } {
  let on = true;
  const loop = (async () => {
    while (on) {
      try {
        round();
      } catch {
        // a run that ended meanwhile: the next round
      }
      await sleep(10);
    }
  })();
  return { stop: async () => { on = false; await loop; } };
}

/**
 * Starves container CONTAINER of POD of CPU, as a tiny CPU limit on a busy node would: each run of
 * it that starts from now until `release()` (a restarted one, or one of a re-created pod of that
 * name; not one that exists already) gets PERCENT of one core through the CFS quota of its CPU
 * cgroup, written as the cgroup appears (before or within milliseconds of the run's first
 * instruction). Its processes run and answer, every step taking about 100/PERCENT times as long.
 * Resolves once it watches; `release()` stops watching and gives each its quota back (a run that
 * ended took its cgroup with it). `starved()`: how many runs it caught.
 */
export async function starve(ns: string, pod: string, container: string, percent: number): Promise<{ release: () => Promise<void>; starved: () => number }> {
  if (process.getuid?.() !== 0) throw new Error('starve needs root: it writes the containers\' CPU cgroups on the host');
  const runs = watchRuns(ns, pod, true);
  const saved = new Map<string, { file: string; quota: string }>();
  const watch = everyTenMs(() => {
    for (const run of runs().filter((r) => r.container === container && !saved.has(r.id))) {
      const q = cgroupQuota(run.cgroup, percent);
      if (!q) continue; // its cgroup is not there yet: the next round
      const quota = fs.readFileSync(q.file, 'utf8').trim();
      fs.writeFileSync(q.file, q.value);
      saved.set(run.id, { file: q.file, quota });
    }
  });
  return {
    starved: () => saved.size,
    release: async () => {
      await watch.stop();
      for (const { file, quota } of saved.values()) {
        try {
          fs.writeFileSync(file, quota);
        } catch {
          // that run ended: its cgroup is gone
        }
      }
    },
  };
}

/**
 * Holds running container CONTAINER of POD (and whatever is `kubectl exec`ed in it) to PERCENT of
 * one core through the CFS quota of its CPU cgroup, until `release()` gives the quota back: a
 * slow member, or a slow step made long enough to strike during it.
 */
export async function throttle(ns: string, pod: string, container: string, percent: number): Promise<{ release: () => Promise<void> }> {
  if (process.getuid?.() !== 0) throw new Error('throttle needs root: it writes the container\'s CPU cgroup on the host');
  const { file, value } = cpuQuota(await containerPid(ns, pod, container), percent);
  const quota = fs.readFileSync(file, 'utf8').trim();
  fs.writeFileSync(file, value);
  return {
    release: async () => {
      try {
        fs.writeFileSync(file, quota);
      } catch {
        // the container ended: its cgroup is gone
      }
    },
  };
}

/**
 * Crashes init container CONTAINER of POD while it runs, as `crash` does the main one: SIGKILL
 * from the host to its init, so every process of it dies at once and no trap runs. Resolves once
 * the kubelet has seen it fail (its restart count went up); the kubelet then runs it again.
 */
export async function crashInit(ns: string, pod: string, container: string): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('crashInit needs root: it signals the container from the host');
  const restarts = async () => Number((await kubectl(['-n', ns, 'get', 'pod', pod, '-o',
    `jsonpath={.status.initContainerStatuses[?(@.name=="${container}")].restartCount}`])).trim() || '0');
  const before = await restarts();
  const [task] = await namedTasks(ns, pod, container);
  if (!task) throw new Error(`${ns}/${pod} init container ${container}: not running`);
  process.kill(task[1], 'SIGKILL');
  await waitFor(ns, `${pod}/${container} failed after SIGKILL`, minutes(2), async () => (await restarts()) > before);
}

/** The host PIDs of every process of container CONTAINER of POD (an init container too) while it runs; [] when it does not. */
export async function containerProcesses(ns: string, pod: string, container: string): Promise<number[]> {
  const [task] = await namedTasks(ns, pod, container);
  return task ? processesOf(task[1]) : [];
}
