/**
 * The scan for literal credentials in what a container runs: commands, args, probe commands and
 * environment values. What it looks for (docs: README "What synth checks"):
 *
 * - a URL with a password: `scheme://user:password@host`;
 * - a password flag with a value: long flags whose name ends in `password`, `passwd`, `pass`,
 *   `passphrase`, `requirepass`, `masterauth`, `secret`, `token`, `api-key` or
 *   `private-key` (`--requirepass hunter2`, `--password=hunter2`), the Redis directives
 *   `requirepass`/`masterauth` followed by a value, `redis-cli -a <password>`, and MySQL's
 *   `-p<password>` in a mysql/mariadb command;
 * - an assignment of a secret-named variable: `PGPASSWORD=hunter2 psql …`, `MYSQL_PWD=…`,
 *   `REDISCLI_AUTH=…`.
 *
 * A value that starts with `$` (`$(cat /run/secrets/db/password)`, `$PASSWORD`, `${TOKEN}`) is a
 * reference resolved at run time, not a literal, and passes; so does a `*_FILE`/`*-file` name.
 * Shell scripts passed as one argument (`sh -c '…'`) are split into words. The found value is
 * never repeated in the error message.
 */

/** Names of variables that hold a secret (environment variables, shell assignments). */
export const SECRET_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|^MYSQL_PWD$|^REDISCLI_AUTH$)/i;

/** Flag names (without dashes) that take a password. */
const SECRET_FLAG = /^(.*[-_])?(pass|password|passwd|passphrase|requirepass|masterauth|secret|token|api-?key|private-?key|credentials?)$/i;

/** A URL that carries a password: `scheme://user:password@`. */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]*:([^\s@/?#]+)@/i;

/** A value resolved at run time rather than written into the manifest. */
function isReference(value: string): boolean {
  const v = value.replace(/^['"]+/, '');
  return v.startsWith('$') || v.startsWith('`');
}

function unquote(word: string): string {
  return word.replace(/^['"]+|['";]+$/g, '');
}

/**
 * What looks like a literal credential in one command line (its words; a word holding a shell
 * script is split further), as a short description without the value, or undefined.
 */
export function findLiteralCredential(words: readonly string[]): string | undefined {
  const tokens = words.flatMap((w) => String(w).split(/\s+/)).map(unquote).filter((t) => t !== '');
  const programs = new Set(tokens.map((t) => t.split('/').pop()!));
  const mysqlLike = [...programs].some((p) => /^(mysql|mariadb|mysqladmin|mysqldump|mariadb-admin|mariadb-dump)$/.test(p));
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const next = tokens[i + 1];
    const url = URL_WITH_PASSWORD.exec(token);
    if (url && !isReference(url[1])) return 'a URL with a password (scheme://user:password@host)';
    const flag = /^(--?)([A-Za-z][-A-Za-z0-9_]*)(?:=(.*))?$/.exec(token);
    if (flag && flag[1] === '--' && SECRET_FLAG.test(flag[2])) {
      const value = flag[3] ?? (next !== undefined && !next.startsWith('-') ? next : undefined);
      if (value && !isReference(value)) return `the password flag '--${flag[2]}' with a literal value`;
    }
    if ((token === 'requirepass' || token === 'masterauth') && next !== undefined && !isReference(next)) {
      return `the Redis directive '${token}' with a literal value`;
    }
    if (token === '-a' && programs.has('redis-cli') && next !== undefined && !isReference(next)) {
      return "redis-cli's password flag '-a' with a literal value";
    }
    if (mysqlLike && /^-p./.test(token) && !isReference(token.slice(2))) {
      return "the MySQL password flag '-p<password>' with a literal value";
    }
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(token);
    if (assignment && SECRET_NAME.test(assignment[1]) && !/_FILE$/i.test(assignment[1]) && !isReference(assignment[2])) {
      return `the assignment '${assignment[1]}=' with a literal value`;
    }
  }
  return undefined;
}
