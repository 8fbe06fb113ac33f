// A real S3-compatible store for the backup tests: versitygw (tools/images/versitygw, built from the
// Go module proxy by tools/s3-server/build.sh) with its POSIX backend on a claim, serving HTTPS with
// a certificate of a throw-away CA made here, as Deployment + Service `s3` of a test namespace,
// under the restricted Pod Security profile. `stop`/`start` scale it to 0 and back: the store down.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { S3Repository } from '../../lib';
import { createNamespace, createSecret, deleteNamespace, imageRef, kubectl, minutes, run } from './helpers';

const NAME = 's3';
const PORT = 7070;
const USER = 65532;

/** The store of namespace NS, once `create` has run. */
export interface S3Store {
  /** `host:port` of its Service, which its certificate names. */
  readonly endpoint: string;
  /** The CA certificate (PEM) that signed the store's certificate. */
  readonly caCertificate: string;
  /** The root account's access key id and secret. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A CA and a server certificate for HOST, made with openssl in a temporary directory. */
async function certificates(host: string): Promise<{ ca: string; cert: string; key: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-s3-'));
  const f = (n: string) => path.join(dir, n);
  try {
    const steps: string[][] = [
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=cdk8s-stateful e2e CA'],
      ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('tls.key'), '-out', f('tls.csr'), '-subj', `/CN=${host}`],
      ['x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('tls.crt'), '-days', '2', '-extfile', f('ext')],
    ];
    fs.writeFileSync(f('ext'), `subjectAltName=DNS:${host}\n`);
    for (const args of steps) {
      const r = await run('openssl', args);
      if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
    }
    return { ca: fs.readFileSync(f('ca.crt'), 'utf8'), cert: fs.readFileSync(f('tls.crt'), 'utf8'), key: fs.readFileSync(f('tls.key'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The Deployment, its claim and Service: versitygw over HTTPS, bucket BUCKET made by an init container. */
function manifests(ns: string, bucket: string): object[] {
  const labels = { 'app.kubernetes.io/name': 'e2e-s3' };
  const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
  const resources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '512Mi' } };
  return [
    {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: NAME, namespace: ns },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } },
    },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: NAME, namespace: ns, labels },
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 1,
            securityContext: { runAsNonRoot: true, runAsUser: USER, runAsGroup: USER, fsGroup: USER, seccompProfile: { type: 'RuntimeDefault' } },
            // the POSIX backend serves each directory as a bucket
            initContainers: [{
              name: 'bucket', image: imageRef('busybox'), command: ['mkdir', '-p', `/data/${bucket}`],
              securityContext: restricted, resources, volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }],
            containers: [{
              name: 'versitygw',
              image: imageRef('versitygw'),
              args: ['--port', `:${PORT}`, '--cert', '/tls/tls.crt', '--key', '/tls/tls.key', 'posix', '/data'],
              env: [
                { name: 'ROOT_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: `${NAME}-root`, key: 'access-key-id' } } },
                { name: 'ROOT_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: `${NAME}-root`, key: 'secret-access-key' } } },
              ],
              ports: [{ name: 's3', containerPort: PORT }],
              readinessProbe: { tcpSocket: { port: PORT }, periodSeconds: 2 },
              securityContext: restricted,
              resources,
              volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'tls', mountPath: '/tls', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [
              { name: 'data', persistentVolumeClaim: { claimName: NAME } },
              { name: 'tls', secret: { secretName: `${NAME}-tls`, defaultMode: 0o440 } },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: NAME, namespace: ns },
      spec: { selector: labels, ports: [{ name: 's3', port: PORT, targetPort: PORT }] },
    },
  ];
}

/** Creates the store in NS with bucket BUCKET and waits until it serves. */
export async function createS3Store(ns: string, bucket: string, keys: { accessKeyId: string; secretAccessKey: string }): Promise<S3Store> {
  const host = `${NAME}.${ns}.svc.cluster.local`;
  const tls = await certificates(host);
  await kubectl(['-n', ns, 'create', 'secret', 'generic', `${NAME}-root`,
    `--from-literal=access-key-id=${keys.accessKeyId}`, `--from-literal=secret-access-key=${keys.secretAccessKey}`]);
  await kubectl(['-n', ns, 'create', 'secret', 'generic', `${NAME}-tls`, `--from-literal=tls.crt=${tls.cert}`, `--from-literal=tls.key=${tls.key}`]);
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests(ns, bucket) }) });
  await startS3Store(ns);
  return { endpoint: `${host}:${PORT}`, caCertificate: tls.ca, ...keys };
}

/** The credentials Secret's entries a set needs to reach STORE: its keys and its CA, under the key names the repository uses. */
export function storeSecretEntries(store: S3Store): { [key: string]: string } {
  return { 's3-access-key-id': store.accessKeyId, 's3-secret-access-key': store.secretAccessKey, 's3-ca.crt': store.caCertificate };
}

/** A repository at PATH of BUCKET in STORE, its CA read from the Secret's `s3-ca.crt`. */
export function storeRepository(store: S3Store, bucket: string, path: string): S3Repository {
  return { bucket, endpoint: store.endpoint, region: 'us-east-1', path, caCertificateKey: 's3-ca.crt' };
}

/** Scales the store to 0: the store is down (its claim keeps the data). Resolves when its pod is gone. */
export async function stopS3Store(ns: string): Promise<void> {
  await kubectl(['-n', ns, 'scale', `deployment/${NAME}`, '--replicas=0']);
  await kubectl(['-n', ns, 'wait', '--for=delete', 'pod', '-l', 'app.kubernetes.io/name=e2e-s3', '--timeout=120s'], { timeoutMs: 130_000 });
}

/** Scales the store back to 1 and waits until it serves. */
export async function startS3Store(ns: string): Promise<void> {
  await kubectl(['-n', ns, 'scale', `deployment/${NAME}`, '--replicas=1']);
  await kubectl(['-n', ns, 'rollout', 'status', `deployment/${NAME}`, `--timeout=${minutes(4) / 1000}s`], { timeoutMs: minutes(5) });
}

/**
 * A call of the rclone S3 functions (rclone-s3.sh, on the BACKUP repository) in the sidecar
 * `backup` of POD in NS, e.g. `s3_snapshots BACKUP .mbstream`: its output.
 */
export async function sidecarS3(ns: string, pod: string, call: string): Promise<string> {
  const scripts = '/opt/cdk8s-stateful';
  return kubectl(['-n', ns, 'exec', pod, '-c', 'backup', '--', 'bash', '-c', `. ${scripts}/common.sh; . ${scripts}/rclone-s3.sh; ${call}`], { timeoutMs: minutes(3) });
}

/** A new namespace NS (deleted first if it exists) with the Secret NAME: ENTRIES and the store's keys and CA. */
export async function namespaceWithStoreSecret(ns: string, name: string, store: S3Store, entries: { [key: string]: string }): Promise<void> {
  await deleteNamespace(ns);
  await createNamespace(ns);
  await createSecret(ns, name, { ...entries, ...storeSecretEntries(store) });
}
