import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { ChangeGuard, ChangeGuardOptions } from '../lib';

/** Builds the constructs of one version of an app into its chart. */
export type Build = (chart: Chart) => void;

/** A fresh output directory for one test's deployments. */
export function outdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-plan-'));
}

/** An app of one chart `test` (namespace `ns` unless given) writing to `dir`, built by `build`, guarded (unless `guard` is false). */
export function appOf(dir: string, build: Build, namespace: string | undefined = 'ns', guard: ChangeGuardOptions | false = {}): App {
  const app = new App({ outdir: dir });
  if (guard) ChangeGuard.attach(app, guard);
  build(new Chart(app, 'test', { namespace, disableResourceNameHashes: true }));
  return app;
}

/** Synthesizes `build` into `dir` (what is deployed now) and returns the manifests. */
export function deploy(dir: string, build: Build): any[] {
  appOf(dir, build).synth();
  return read(dir);
}

/** The manifests of the `.k8s.yaml` files of `dir`. */
export function read(dir: string): any[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.k8s.yaml')).sort()
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf-8')).map((d) => d.toJS()));
}

/** Synthesizes the next version against what `dir` holds, without writing: its manifests and findings. */
export function next(dir: string, build: Build): { manifests: any[]; findings: string[] } {
  const app = appOf(dir, build);
  const yaml = app.synthYaml();
  return { manifests: parseAllDocuments(yaml).map((d) => d.toJS()), findings: ChangeGuard.of(app)!.findings };
}

/** The message of the error the next version's synth throws (or '' if it does not). */
export function refusal(dir: string, build: Build): string {
  try {
    appOf(dir, build).synthYaml();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}
