import * as fs from 'fs';
import * as path from 'path';

/** Where {@link StatefulDatabase} mounts the engine's files (`EngineBinding.files`) in every container. */
export const SCRIPTS_PATH = '/opt/cdk8s-stateful';

/** The pod label holding the ordinal (Kubernetes 1.28+). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

let scriptsDir: string | undefined;

/**
 * The directory of the engine scripts. They are plain files beside this module in the sources
 * (`lib/database/engines/scripts/`); `tsc` does not copy them into `out/`, so compiled code finds
 * them by walking up to the package root.
 */
function findScriptsDir(): string {
  if (scriptsDir) return scriptsDir;
  const beside = path.join(__dirname, '..', 'scripts');
  if (fs.existsSync(path.join(beside, 'common.sh'))) return (scriptsDir = beside);
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'lib', 'database', 'engines', 'scripts');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(candidate, 'common.sh'))) {
      return (scriptsDir = candidate);
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`cdk8s-stateful: the engine scripts are missing (looked beside ${__dirname} and under the package root). Reinstall the package.`);
    }
  }
}

/** The text of an engine script, read at synth time. */
export function script(name: string): string {
  return fs.readFileSync(path.join(findScriptsDir(), name), 'utf-8');
}

/** The files of the scripts ConfigMap: `common.sh` and the named scripts. */
export function scriptFiles(...names: string[]): { [name: string]: string } {
  const files: { [name: string]: string } = {};
  for (const name of ['common.sh', ...names].sort()) files[name] = script(name);
  return files;
}

/** The command that runs a shipped script. */
export function runScript(name: string, ...args: string[]): string[] {
  return ['bash', `${SCRIPTS_PATH}/${name}`, ...args];
}

