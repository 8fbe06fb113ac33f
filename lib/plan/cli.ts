// `npx cdk8s-stateful plan` (bin/cdk8s-stateful.js runs this): synthesizes the cdk8s app of the current directory against the
// manifests deployed now (its output directory, or --baseline), and writes a Markdown report for a
// pull request (docs/plan.md). Exit 0: synth accepts every change; 1: a change is refused (the
// report says which and how to do it safely); 2: usage or app errors.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BASELINE_ENV, loadBaseline, manifestFiles } from './baseline';
import { PLAN_ENV } from './guard';
import { renderReport } from './report';
import { fullParse } from './yaml-reader';

const USAGE = `usage: cdk8s-stateful plan [--app <command>] [--output <dir>] [--baseline <dir>] [--report <file>]

  --app       the command that runs the cdk8s app (default: 'app' of cdk8s.yaml)
  --output    the app's output directory (default: 'output' of cdk8s.yaml, else dist)
  --baseline  the manifests deployed now (default: the output directory)
  --report    where to write the Markdown report (default: <output>.plan.md; '-' for stdout)

Nothing in the output directory is changed: the app synthesizes into a temporary directory.`;

class Exit extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

function fail(message: string, code = 2): never {
  throw new Exit(code, message);
}

/** The command line: `plan [options]`. Returns the exit code. @internal */
export function runCli(argv: string[]): number {
  try {
    return main(argv);
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    process.stderr.write(`cdk8s-stateful: ${e.message}\n`);
    return e.code;
  }
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command !== 'plan') fail(command === undefined || command === '--help' || command === '-h' ? USAGE : `unknown command '${command}'\n${USAGE}`, command === '--help' || command === '-h' ? 0 : 2);
  const opts: { [k: string]: string } = {};
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    if (!['--app', '--output', '--baseline', '--report'].includes(flag) || rest[i + 1] === undefined) fail(`bad argument '${flag}'\n${USAGE}`);
    opts[flag.slice(2)] = rest[i + 1];
  }
  const config = fs.existsSync('cdk8s.yaml') ? fullParse(fs.readFileSync('cdk8s.yaml', 'utf-8')) ?? {} : {};
  const app: string | undefined = opts.app ?? config.app;
  if (!app) fail('no app to run: give --app, or run in a directory with a cdk8s.yaml');
  const output = opts.output ?? config.output ?? 'dist';
  const baselineName = opts.baseline ?? output;
  const reportFile = opts.report ?? `${output.replace(/[\\/]+$/, '')}.plan.md`;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-plan-'));
  try {
    // a copy: the app never reads a directory it could write
    const baseline = path.join(tmp, 'baseline');
    fs.mkdirSync(baseline);
    for (const file of manifestFiles(baselineName)) {
      const target = path.join(baseline, path.relative(baselineName, file));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(file, target);
    }
    const outdir = path.join(tmp, 'out');
    const planFile = path.join(tmp, 'plan.json');
    const r = spawnSync(app, {
      shell: true, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf-8',
      env: { ...process.env, CDK8S_OUTDIR: outdir, [BASELINE_ENV]: baseline, [PLAN_ENV]: planFile },
    });
    if (!fs.existsSync(planFile)) {
      process.stderr.write(r.stderr ?? '');
      fail(`the app '${app}' ${r.status === 0 ? 'wrote no plan: it does not attach the change guard. Fix: add ChangeGuard.attach(app) right after new App() (docs/plan.md)' : `failed before the comparison (exit ${r.status})`}`);
    }
    const plan = JSON.parse(fs.readFileSync(planFile, 'utf-8'));
    const refused = plan.findings.some((f: any) => f.verdict === 'refused');
    if (r.status !== 0 && !refused) {
      process.stderr.write(r.stderr ?? '');
      fail(`the app '${app}' failed (exit ${r.status})`);
    }
    const report = renderReport({
      baselineName: plan.baseline === null ? undefined : baselineName,
      baseline: [...loadBaseline(baseline, 'all').values()],
      next: refused ? undefined : [...loadBaseline(outdir, 'all').values()],
      findings: plan.findings,
    });
    if (reportFile === '-') process.stdout.write(report);
    else {
      fs.writeFileSync(reportFile, report);
      process.stderr.write(`cdk8s-stateful: wrote ${reportFile}${refused ? ' (changes refused)' : ''}\n`);
    }
    return refused ? 1 : 0;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

