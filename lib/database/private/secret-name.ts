import { IConstruct } from 'constructs';
import { show } from '../../errors';
import { PropValidator } from '../../prop-validator';

/** What the library reads of a cdk8s-plus `ISecret` of any line: its name, and its kind to tell a Secret from another resource. */
interface SecretShape {
  readonly name?: unknown;
  readonly kind?: unknown;
}

/**
 * The name of a Secret of any cdk8s-plus line (`Secret.fromSecretName(...)` or `new Secret(...)`
 * of cdk8s-plus-27, -33, ...), checked: another resource, or a bad name, fails with the
 * construct's error.
 */
export function secretName(check: PropValidator, what: string, secret: IConstruct): string {
  const { kind, name } = (secret ?? {}) as SecretShape;
  if (kind !== 'Secret') {
    const got = typeof kind === 'string' ? `a ${kind} named ${show(name)}` : show(secret);
    check.fail(`${what} must be a cdk8s-plus Secret, got ${got}. Fix: pass a Secret of your cdk8s-plus, e.g. Secret.fromSecretName(chart, 'creds', 'db-credentials').`);
  }
  return check.dnsSubdomain(`${what} name`, name as string);
}
