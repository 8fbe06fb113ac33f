import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { outdir } from './plan-util';

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'cdk8s-stateful.js');

/** Runs `cdk8s-stateful plan` in `cwd`; its exit code and the report it wrote to stdout. */
function plan(cwd: string, ...args: string[]): { status: number | null; report: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'plan', '--report', '-', ...args], { cwd, encoding: 'utf-8', env: { ...process.env, CDK8S_STATEFUL_BASELINE: '' } });
  return { status: r.status, report: r.stdout, stderr: r.stderr };
}

describe('npx cdk8s-stateful plan', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'out', 'lib', 'plan', 'cli.js'))) throw new Error('out/lib/plan/cli.js is missing: run tsc first (npm test does)');
  });

  test('the examples\' report (dist.plan.md) is current: run `node bin/cdk8s-stateful.js plan` and commit it', () => {
    const { status, report } = plan(ROOT);
    expect(status).toBe(0);
    expect(report).toBe(fs.readFileSync(path.join(ROOT, 'dist.plan.md'), 'utf-8'));
  });

  // a tiny app of the compiled library, shaped by environment variables
  const project = outdir();
  fs.writeFileSync(path.join(project, 'app.js'), `
const { App, Chart, Size } = require(${JSON.stringify(require.resolve('cdk8s'))});
const L = require(${JSON.stringify(path.join(ROOT, 'out', 'lib'))});
const app = new App();
L.ChangeGuard.attach(app);
const chart = new Chart(app, 'shop', { namespace: 'shop', disableResourceNameHashes: true });
const fast = new L.StorageClass(chart, 'fast', { provisioner: 'ebs.csi.aws.com', allowVolumeExpansion: true });
new L.StatefulDatabase(chart, 'orders', {
  engine: L.DatabaseEngine.zookeeper(), replicas: Number(process.env.REPLICAS ?? 3),
  storage: { storageClass: fast, size: Size.gibibytes(Number(process.env.SIZE ?? 10)) },
});
app.synth();
`);
  fs.writeFileSync(path.join(project, 'cdk8s.yaml'), 'app: node app.js\noutput: deployed\n');
  const synth = (env: { [k: string]: string }) => {
    const r = spawnSync(process.execPath, ['app.js'], { cwd: project, encoding: 'utf-8', env: { ...process.env, ...env, CDK8S_OUTDIR: 'deployed' } });
    if (r.status !== 0) throw new Error(r.stderr);
  };

  test('a first plan: everything new, with the picture', () => {
    const { status, report } = plan(project);
    expect(status).toBe(0);
    expect(report).toContain('No deployed manifests to compare with: everything below is new.');
    expect(report).toContain('```mermaid\nflowchart LR\n  subgraph sts_shop_orders["StatefulSet shop/orders · zookeeper:3.9.5"]');
    expect(report).toContain('pvc_shop_data_orders_0 -.-> sc_fast');
    expect(report).toContain('sc_fast["class fast: ebs.csi.aws.com, expandable, Retain"]');
  });

  test('growth on an expandable class: the plan shows the claims growing through the apply; the output directory is untouched', () => {
    synth({});
    const before = fs.readFileSync(path.join(project, 'deployed', 'shop.k8s.yaml'), 'utf-8');
    const r = spawnSync(process.execPath, [BIN, 'plan', '--report', '-'], { cwd: project, encoding: 'utf-8', env: { ...process.env, SIZE: '20' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('| **storage `data`** | 10Gi, fast, ReadWriteOnce | 20Gi, fast, ReadWriteOnce (claims carried, template 10Gi) |');
    expect(r.stdout).toContain('2. spec.volumeClaimTemplates[data].spec.resources.requests.storage grows from 10Gi to 20Gi by the apply');
    expect(r.stdout).toContain('("data-orders-2 20Gi")');
    expect(fs.readFileSync(path.join(project, 'deployed', 'shop.k8s.yaml'), 'utf-8')).toBe(before);
  });

  test('a refused change: exit 1, the refusal with its fix, the deployed picture', () => {
    synth({});
    const r = spawnSync(process.execPath, [BIN, 'plan', '--report', '-'], { cwd: project, encoding: 'utf-8', env: { ...process.env, REPLICAS: '1' } });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('**Refused: 1 change.** Synth fails until each is undone or approved; the picture shows what is deployed.');
    expect(r.stdout).toContain("1. StatefulDatabase 'shop/orders': refuses to change StatefulSet shop/orders spec.replicas from 3 to 1");
    expect(r.stdout).toContain('Fix: keep at least 2 members');
    expect(r.stdout).toContain('| replicas | 3 | (refused) |');
  });

  test('an app without the change guard: exit 2, saying how to attach it', () => {
    const bare = outdir();
    fs.writeFileSync(path.join(bare, 'app.js'), fs.readFileSync(path.join(project, 'app.js'), 'utf-8').replace('L.ChangeGuard.attach(app);\n', ''));
    const r = spawnSync(process.execPath, [BIN, 'plan', '--app', 'node app.js', '--report', '-'], { cwd: bare, encoding: 'utf-8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("cdk8s-stateful: the app 'node app.js' wrote no plan: it does not attach the change guard. Fix: add ChangeGuard.attach(app) right after new App() (docs/plan.md)\n");
  });

  test('bad usage fails with the usage text', () => {
    const r = spawnSync(process.execPath, [BIN, 'deploy'], { encoding: 'utf-8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'deploy'");
  });
});
