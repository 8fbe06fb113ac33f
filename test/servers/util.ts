// Real servers on loopback for the engine scripts: each member of a set gets its own address
// (127.0.0.1, .2, .3, ...) and directory, and the scripts run with the environment their container
// gets (ordinal, peers, the Secret's keys), paths moved into that directory.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const SCRIPTS = path.join(__dirname, '..', '..', 'lib', 'database', 'engines', 'scripts');

/** Fails loudly, with the install step, when a server binary is missing: never a silent skip. */
export function requireBinary(name: string, where: string[] = []): string {
  for (const dir of [...where, ...(process.env.PATH ?? '').split(':')]) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} is not installed: run tools/scripts/install-servers.sh (apt packages) before npm run test:servers`);
}

/**
 * A scratch directory, removed after the test file: under /tmp itself, not the test run's private
 * temporary directory, since the servers run as their own users (mysql, postgres), who must reach it.
 */
export function scratch(prefix: string): string {
  return fs.mkdtempSync(path.join('/tmp', `cdk8s-stateful-${prefix}-`));
}

/** Writes the credentials Secret's keys into `<dir>/secrets` and returns KEYS_DIR. */
export function secrets(dir: string, keys: { [key: string]: string }, owner?: number): string {
  const keysDir = path.join(dir, 'secrets');
  fs.mkdirSync(keysDir, { recursive: true });
  for (const [k, v] of Object.entries(keys)) {
    fs.writeFileSync(path.join(keysDir, k), v, { mode: 0o440 });
    if (owner !== undefined) fs.chownSync(path.join(keysDir, k), owner, owner);
  }
  if (owner !== undefined) fs.chownSync(keysDir, owner, owner);
  return keysDir;
}

/** Runs a shipped script to completion. */
export function runScript(script: string, env: { [name: string]: string }, timeoutMs = 120_000) {
  const res = spawnSync('bash', [path.join(SCRIPTS, script), ...(env.ARG ? [env.ARG] : [])], {
    env: { PATH: process.env.PATH, SCRIPTS_DIR: SCRIPTS, ...env }, encoding: 'utf-8', timeout: timeoutMs,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/**
 * A long-running process in its own process group, as a container's processes are: kill() ends
 * every process of the group (a script's children and background loops too, which would otherwise
 * hold its output pipes open and keep Jest from exiting), and killAll() ends them at the end of a file.
 */
export class Proc {
  private static all: Proc[] = [];
  public static killAll() {
    Proc.all.forEach((p) => p.kill());
    Proc.all = [];
  }
  /** The last lines of every running process's output: what a timed-out wait reports. */
  public static tails(lines = 12): string {
    return Proc.all.filter((p) => p.log).map((p) => `--- ${p.label}, its last ${lines} lines:\n${p.log.trimEnd().split('\n').slice(-lines).join('\n')}`).join('\n');
  }
  public readonly child: ChildProcess;
  public readonly label: string;
  public log = '';
  constructor(command: string, args: string[], env: { [name: string]: string } = {}) {
    this.label = [command, ...args].join(' ').slice(0, 160);
    this.child = spawn(command, args, { env: { PATH: process.env.PATH, ...env }, detached: true });
    this.child.stdout?.on('data', (d) => { this.log += d; });
    this.child.stderr?.on('data', (d) => { this.log += d; });
    Proc.all.push(this);
  }
  public kill(signal: NodeJS.Signals = 'SIGKILL') {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // the whole group is gone
    }
  }
  public exited(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.on('exit', resolve));
  }
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function until<T>(what: string, check: () => T | undefined, seconds = 60): Promise<T> {
  const end = Date.now() + seconds * 1000;
  let last: unknown;
  for (;;) {
    try {
      const v = check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? `: ${last}` : ''}\n${Proc.tails()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
