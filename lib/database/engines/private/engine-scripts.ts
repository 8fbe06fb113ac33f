import { ENGINE_SCRIPTS } from './engine-scripts.generated';

/*
 * The engine scripts the presets mount into their pods. They are real bash files
 * (lib/database/engines/scripts/*.sh, executed by the tests); `npm run build` compiles their texts
 * into engine-scripts.generated.ts, so the library reads no file at synth.
 * Internal: not exported from the package.
 */

/** Where {@link StatefulDatabase} mounts the engine's files (`EngineBinding.files`) in every container. */
export const SCRIPTS_PATH = '/opt/cdk8s-stateful';

/** The text of an engine script. */
function script(name: string): string {
  const text = ENGINE_SCRIPTS[name];
  if (text === undefined) throw new Error(`cdk8s-stateful: no engine script '${name}' (scripts: ${Object.keys(ENGINE_SCRIPTS).join(', ')})`);
  return text;
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
