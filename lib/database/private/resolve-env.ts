import * as kplus from 'cdk8s-plus-27';
import { PropValidator } from '../../prop-validator';
import { findLiteralCredential, SECRET_NAME } from './credential-scan';
import { ResolvedEnv } from './database-spec';

/** See `StatefulDatabase.CREDENTIALS_PATH`. */
export const CREDENTIALS_PATH = '/run/secrets/db';

/**
 * A container's environment, sorted by name: each value an EnvValue, each name valid, and no
 * literal credential (by the variable's name, or found in its value by the credential scan).
 */
export function resolveEnv(check: PropValidator, where: string, env: { [name: string]: kplus.EnvValue } | undefined): ResolvedEnv[] | undefined {
  if (env === undefined || Object.keys(check.record(`env of ${where}`, env)).length === 0) return undefined;
  return Object.keys(env).sort().map((name) => {
    const value = env[name];
    // what EnvValue promises, not its class: an EnvValue of another cdk8s-plus (e.g. -33) is welcome
    if (value === null || typeof value !== 'object' || (value.value === undefined && value.valueFrom === undefined)) {
      check.fail(`${where} sets '${name}' to ${JSON.stringify(value)}, which is not an EnvValue. Fix: use EnvValue.fromValue('…'), or for a credential a *_FILE variable under StatefulDatabase.CREDENTIALS_PATH.`);
    }
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) {
      check.fail(`${where} has an invalid environment variable name '${name}'. Fix: use letters, digits, '_', '-' and '.', not starting with a digit.`);
    }
    // `X_FILE=/path` names a file, as the official images read secrets: not a credential itself
    const isFileReference = /_FILE$/.test(name) && typeof value.value === 'string' && value.value.startsWith('/');
    if (value.value !== undefined && SECRET_NAME.test(name) && !isFileReference) {
      check.fail(
        `${where} sets '${name}' to a literal value: a credential would be written into the YAML in plain text. ` +
          "Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), " +
          `pass credentials: { secret } and read the file: e.g. ${name}_FILE=${CREDENTIALS_PATH}/<key>.`,
      );
    }
    const found = value.value === undefined ? undefined : findLiteralCredential([value.value]);
    if (found) literalCredential(check, `${where} sets '${name}' to`, found);
    return { name, value: value.value, valueFrom: value.valueFrom };
  });
}

/** Refuses a literal credential found in a command line or a value. */
function literalCredential(check: PropValidator, where: string, found: string): never {
  return check.fail(
    `${where} ${found}: a credential would be written into the YAML in plain text. ` +
      "Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), " +
      `pass credentials: { secret } and read the file at run time: e.g. "$(cat ${CREDENTIALS_PATH}/<key>)" in a shell command.`,
  );
}

/** Refuses literal credentials in a container's command and args, or a probe's command. */
export function scanCommand(check: PropValidator, where: string, words: string[] | undefined): void {
  const found = words === undefined ? undefined : findLiteralCredential(words);
  if (found) literalCredential(check, `${where} has`, found);
}
