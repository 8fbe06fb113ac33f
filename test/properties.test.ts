import { Size, Testing, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import * as fc from 'fast-check';
import { AccessMode, DatabaseEngine, NfsPersistentVolumePool, StatefulConfigError, StatefulDatabase, StorageClassFast, StorageProvider } from '../lib';
import { app, schemaErrors } from './util';

const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,10}[a-z0-9])?$/);

/** Random valid props for a database on a pool or a class. */
const validApp = fc.record({
  name: dnsLabel,
  namespace: fc.option(dnsLabel, { nil: undefined }),
  replicas: fc.integer({ min: 0, max: 7 }),
  startOrdinal: fc.integer({ min: 0, max: 5 }),
  port: fc.integer({ min: 1, max: 65535 }),
  sizeGi: fc.integer({ min: 1, max: 100 }),
  extraVolumes: fc.integer({ min: 0, max: 3 }),
  onPool: fc.boolean(),
  reserve: fc.boolean(),
  rwx: fc.boolean(),
  podLabels: fc.dictionary(fc.constantFrom('team', 'tier', 'example.com/owner'), dnsLabel, { maxKeys: 2 }),
  nodeSelector: fc.option(fc.dictionary(fc.constantFrom('disk', 'kubernetes.io/os'), dnsLabel, { minKeys: 1, maxKeys: 2 }), { nil: undefined }),
  tolerate: fc.option(fc.record({ key: fc.constantFrom('dedicated', 'node.kubernetes.io/unreachable'), value: fc.option(dnsLabel, { nil: undefined }) }), { nil: undefined }),
  serviceType: fc.constantFrom(kplus.ServiceType.CLUSTER_IP, kplus.ServiceType.NODE_PORT, kplus.ServiceType.LOAD_BALANCER),
  budget: fc.boolean(),
  createServiceAccount: fc.boolean(),
});

function build(p: any): Chart {
  const chart = new Chart(app(), 'c', { namespace: p.namespace, disableResourceNameHashes: true });
  const accessModes = [p.rwx ? AccessMode.READ_WRITE_MANY : AccessMode.READ_WRITE_ONCE];
  const storage = p.onPool
    ? {
      pool: new NfsPersistentVolumePool(chart, 'pool', {
        server: 'nfs.local', basePath: '/exports', volumes: p.replicas + p.extraVolumes, capacity: Size.gibibytes(p.sizeGi),
        accessModes, reserveVolumes: p.reserve,
      }),
      size: Size.gibibytes(p.sizeGi), accessModes,
    }
    : { storageClass: new StorageClassFast(chart, 'fast', { provider: StorageProvider.gce() }), size: Size.gibibytes(p.sizeGi), accessModes };
  new StatefulDatabase(chart, p.name, {
    engine: DatabaseEngine.custom({ image: 'example/db:1.0.0', ports: [{ name: 'client', port: p.port }] }),
    replicas: p.replicas, startOrdinal: p.startOrdinal, storage,
    podLabels: p.podLabels, nodeSelector: p.nodeSelector, tolerations: p.tolerate ? [p.tolerate] : undefined,
    clientServiceType: p.serviceType, podDisruptionBudget: p.budget, createServiceAccount: p.createServiceAccount,
  });
  return chart;
}

describe('properties', () => {
  test('random valid props give schema-valid, deterministic YAML', () => {
    fc.assert(fc.property(validApp, (p) => {
      if (p.onPool && p.replicas + p.extraVolumes === 0) return; // a pool needs at least one volume
      const first = Testing.synth(build(p));
      for (const m of first) expect(schemaErrors(m)).toEqual([]);
      expect(Testing.synth(build(p))).toEqual(first);
    }), { numRuns: 60 });
  });

  /** Any JSON-ish value, including the wrong types a JavaScript user could pass. */
  const junk = fc.oneof(
    fc.string(), fc.integer({ min: -100000, max: 100000 }), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
    fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }), fc.constant(Size.kibibytes(0)), fc.constant(Size.mebibytes(0.5)),
  );

  test('random invalid props only ever fail with the library\'s own error', () => {
    const field = fc.constantFrom('name', 'replicas', 'startOrdinal', 'storage', 'size', 'accessModes', 'image', 'ports', 'port',
      'portName', 'maxUnavailable', 'mounts', 'initContainers', 'env', 'scratchVolumes', 'server', 'basePath', 'volumes',
      'capacity', 'labels', 'headlessServiceName', 'extraVolumeClaims', 'reclaimPolicy', 'paths', 'clusterDomain',
      'resources', 'startupProbe', 'nodeSelector', 'tolerations', 'priorityClassName', 'serviceAccountName', 'imagePullSecrets',
      'imageRegistry', 'podLabels', 'podAnnotations', 'clientServiceType', 'clientServiceAnnotations', 'dnsEgress');
    fc.assert(fc.property(field, junk, (key, value: any) => {
      const chart = new Chart(app(), 'c', { namespace: 'ns', disableResourceNameHashes: true });
      const v = (k: string, fallback: any) => (key === k ? value : fallback);
      try {
        const pool = new NfsPersistentVolumePool(chart, 'pool', {
          server: v('server', 'nfs.local'), basePath: v('basePath', '/exports'), volumes: v('volumes', 3),
          capacity: v('capacity', Size.gibibytes(1)), labels: v('labels', { storage: 'pv' }), reclaimPolicy: v('reclaimPolicy', undefined),
          paths: v('paths', undefined),
        });
        new StatefulDatabase(chart, 'db', {
          engine: DatabaseEngine.custom({
            image: v('image', 'example/db:1.0.0'),
            ports: v('ports', [{ name: v('portName', 'client'), port: v('port', 5432) }]),
          }),
          name: v('name', 'db'),
          replicas: v('replicas', 3),
          startOrdinal: v('startOrdinal', 0),
          storage: v('storage', { pool, size: v('size', Size.gibibytes(1)), accessModes: v('accessModes', [AccessMode.READ_WRITE_ONCE]) }),
          maxUnavailable: v('maxUnavailable', undefined),
          mounts: v('mounts', undefined),
          initContainers: v('initContainers', undefined),
          env: v('env', undefined),
          scratchVolumes: v('scratchVolumes', undefined),
          headlessServiceName: v('headlessServiceName', undefined),
          extraVolumeClaims: v('extraVolumeClaims', undefined),
          clusterDomain: v('clusterDomain', undefined),
          resources: v('resources', undefined),
          startupProbe: v('startupProbe', undefined),
          nodeSelector: v('nodeSelector', undefined),
          tolerations: v('tolerations', undefined),
          priorityClassName: v('priorityClassName', undefined),
          serviceAccountName: v('serviceAccountName', undefined),
          imagePullSecrets: v('imagePullSecrets', undefined),
          imageRegistry: v('imageRegistry', undefined),
          podLabels: v('podLabels', undefined),
          podAnnotations: v('podAnnotations', undefined),
          clientServiceType: v('clientServiceType', undefined),
          clientServiceAnnotations: v('clientServiceAnnotations', undefined),
          dnsEgress: v('dnsEgress', undefined),
        });
        Testing.synth(chart);
      } catch (e) {
        // validations throw the library's error too: never cdk8s's wrapped 'Validation failed' string
        if (!(e instanceof StatefulConfigError)) {
          throw new Error(`${key} = ${JSON.stringify(value)} gave a ${(e as Error).name}: ${(e as Error).message}`);
        }
      }
    }), { numRuns: 600 });
  });
});
