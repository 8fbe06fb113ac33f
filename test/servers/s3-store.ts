// The S3-compatible store of the backup files of the real-server suite: versitygw (built by
// tools/s3-server/build.sh) over HTTPS on loopback, with a certificate of a throw-away CA.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Proc } from './util';

/** The versitygw binary tools/s3-server/build.sh made (loud when it has not run). */
export function versitygw(): string {
  const res = spawnSync('bash', [path.join(__dirname, '..', '..', 'tools', 's3-server', 'build.sh'), '--print-bin'], { encoding: 'utf-8' });
  const bin = res.stdout.trim();
  if (!fs.existsSync(bin)) throw new Error(`versitygw is not built (${bin}): run tools/s3-server/build.sh before npm run test:servers`);
  return bin;
}

/** A CA (`ca.crt`) and a certificate for `localhost` (`tls.crt`, `tls.key`), made with openssl in DIR. */
export function certificates(dir: string): void {
  const f = (n: string) => path.join(dir, n);
  fs.writeFileSync(f('ext'), 'subjectAltName=DNS:localhost\n');
  for (const args of [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=servers test CA'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('tls.key'), '-out', f('tls.csr'), '-subj', '/CN=localhost'],
    ['x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('tls.crt'), '-days', '2', '-extfile', f('ext')],
  ]) {
    const res = spawnSync('openssl', args, { encoding: 'utf-8' });
    if (res.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${res.stderr}`);
  }
}

/**
 * versitygw over HTTPS on 127.0.0.1:PORT with a throw-away CA made in ROOT/tls, serving ROOT/store
 * with the bucket `backups` and the root keys KEYS: the store's directory, the CA's PEM (for the
 * Secret's `s3-ca.crt`) and `start()`, which starts it (again, after a kill).
 */
export function loopbackStore(root: string, port: string, keys: { accessKeyId: string; secretAccessKey: string }): { store: string; caPem: string; start: () => Proc } {
  const gateway = versitygw();
  const tls = path.join(root, 'tls');
  fs.mkdirSync(tls);
  certificates(tls);
  const store = path.join(root, 'store');
  fs.mkdirSync(path.join(store, 'backups'), { recursive: true });
  const start = () => new Proc(gateway, ['--port', `127.0.0.1:${port}`, '--cert', path.join(tls, 'tls.crt'), '--key', path.join(tls, 'tls.key'), 'posix', store],
    { ROOT_ACCESS_KEY_ID: keys.accessKeyId, ROOT_SECRET_ACCESS_KEY: keys.secretAccessKey });
  return { store, caPem: fs.readFileSync(path.join(tls, 'ca.crt'), 'utf-8'), start };
}
