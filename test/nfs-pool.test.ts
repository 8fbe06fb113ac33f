import { ApiObject, Size } from 'cdk8s';
import { AccessMode, DatabaseEngine, NfsPersistentVolumePool, ReclaimPolicy, StatefulConfigError, StatefulDatabase } from '../lib';
import { unboundClaims } from '../lib/storage/volume-binder';
import { chart, find, synth, validationErrors } from './util';

const engine = DatabaseEngine.custom({ image: 'nginxinc/nginx-unprivileged:1.27.3', ports: [{ name: 'web', port: 8080 }] });

function poolOf(c: ReturnType<typeof chart>, props: Partial<ConstructorParameters<typeof NfsPersistentVolumePool>[2]> = {}) {
  return new NfsPersistentVolumePool(c, 'pool', { server: '192.168.205.128', basePath: '/data/k8s', volumes: 2, capacity: Size.gibibytes(1), ...props });
}

describe('NfsPersistentVolumePool', () => {
  test('defaults: one sub-directory per volume, Retain, RWO, pool-named class and label, cluster-scoped', () => {
    const c = chart('web');
    new NfsPersistentVolumePool(c, 'www', { server: 'nfs.local', basePath: '/data/k8s/' });
    const pvs = synth(c).filter((m) => m.kind === 'PersistentVolume');
    expect(pvs.map((p) => p.metadata.name)).toEqual(['www-0', 'www-1', 'www-2']);
    expect(pvs[1]).toEqual({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'www-1', labels: { 'stateful.cdk8s.io/pool': 'www' } },
      spec: {
        capacity: { storage: '10Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'www',
        nfs: { server: 'nfs.local', path: '/data/k8s/www-1' },
      },
    });
  });

  test('props: explicit paths, access modes, mount options, labels, class, name', () => {
    const c = chart();
    const pool = new NfsPersistentVolumePool(c, 'p', {
      server: '10.0.0.5', paths: ['/exports/a', '/exports/b'], accessModes: [AccessMode.READ_WRITE_MANY],
      mountOptions: ['nfsvers=4.1', 'hard'], labels: { storage: 'pv' }, storageClassName: 'nfs', name: 'shared',
      capacity: Size.gibibytes(5),
    });
    const pv = find(synth(c), 'PersistentVolume', 'shared-1');
    expect(pv.spec).toMatchObject({ accessModes: ['ReadWriteMany'], mountOptions: ['nfsvers=4.1', 'hard'], storageClassName: 'nfs', nfs: { path: '/exports/b' }, capacity: { storage: '5Gi' } });
    expect(pv.metadata.labels).toEqual({ storage: 'pv' });
    expect(pool.volumes.map((v) => v.path)).toEqual(['/exports/a', '/exports/b']);
  });

  test('reserves volume n for ordinal n of the set (claimRef), and claims select the pool', () => {
    const c = chart('web');
    const pool = poolOf(c, { labels: { storage: 'pv' } });
    new StatefulDatabase(c, 'web', { engine, replicas: 2, storage: { name: 'www', pool, size: Size.gibibytes(1) } });
    const out = synth(c);
    expect(find(out, 'PersistentVolume', 'pool-0').spec.claimRef).toEqual({ namespace: 'web', name: 'www-web-0' });
    expect(find(out, 'PersistentVolume', 'pool-1').spec.claimRef).toEqual({ namespace: 'web', name: 'www-web-1' });
    expect(find(out, 'StatefulSet').spec.volumeClaimTemplates[0].spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'pool',
      selector: { matchLabels: { storage: 'pv' } },
      resources: { requests: { storage: '1Gi' } },
    });
    expect(validationErrors(c)).toEqual([]);
  });

  test('reservations follow the start ordinal and are assigned across sets in order', () => {
    const c = chart('db');
    const pool = poolOf(c, { volumes: 4 });
    new StatefulDatabase(c, 'a', { engine, replicas: 2, startOrdinal: 5, storage: { pool, size: Size.gibibytes(1) } });
    new StatefulDatabase(c, 'b', { engine, replicas: 2, storage: { pool, size: Size.gibibytes(1) } });
    const refs = synth(c).filter((m) => m.kind === 'PersistentVolume').map((p) => p.spec.claimRef.name);
    expect(refs).toEqual(['data-a-5', 'data-a-6', 'data-b-0', 'data-b-1']);
  });

  test('reserveVolumes: false leaves binding to the controller', () => {
    const c = chart();
    const pool = poolOf(c, { reserveVolumes: false });
    new StatefulDatabase(c, 'web', { engine, replicas: 2, storage: { pool, size: Size.gibibytes(1) } });
    expect(find(synth(c), 'PersistentVolume', 'pool-0').spec.claimRef).toBeUndefined();
    expect(validationErrors(c)).toEqual([]);
  });

  test('fails at synth when replicas outnumber the volumes, naming the ordinals left without one', () => {
    const c = chart('web');
    const pool = poolOf(c);
    new StatefulDatabase(c, 'web', { engine, replicas: 4, storage: { name: 'www', pool, size: Size.gibibytes(1) } });
    expect(validationErrors(c)).toEqual([
      "NfsPersistentVolumePool 'test/pool': ordinals 2, 3 of StatefulSet 'web' (claim template 'www', requested 1Gi, ReadWriteOnce) " +
        'would be left without a volume: every volume of the pool is reserved for another claim. ' +
        'Fix: give the pool at least 4 volumes (it has 2), or lower the replicas.',
    ]);
    expect(() => synth(c)).toThrow(/ordinals 2, 3 of StatefulSet 'web'/);
    expect(() => synth(c)).toThrow(StatefulConfigError); // the library's own error, not a wrapped string
  });

  test('fails at synth when a claim asks for more than a volume holds', () => {
    const c = chart('web');
    const pool = poolOf(c);
    new StatefulDatabase(c, 'web', { engine, replicas: 1, storage: { pool, size: Size.gibibytes(2) } });
    expect(validationErrors(c)[0]).toContain('ordinal 0 of StatefulSet \'web\' (claim template \'data\', requested 2Gi, ReadWriteOnce) would be left without a volume: it is reserved to pool-0, but volume pool-0 holds 1Gi, the claim requests 2Gi');
  });

  test('fails at synth when a claim asks for an access mode the pool does not offer', () => {
    const c = chart();
    const pool = poolOf(c, { reserveVolumes: false });
    new StatefulDatabase(c, 'web', { engine, replicas: 1, storage: { pool, size: Size.gibibytes(1), accessModes: [AccessMode.READ_WRITE_MANY] } });
    expect(validationErrors(c)[0]).toContain('volume pool-0 does not offer access mode ReadWriteMany (it offers ReadWriteOnce)');
  });

  test.each([
    ['Recycle', "reclaimPolicy 'Recycle' is refused: it runs 'rm -rf' on the volume when its claim is deleted (and is deprecated). Fix: use ReclaimPolicy.RETAIN and clean up released volumes yourself."],
    [ReclaimPolicy.DELETE, "reclaimPolicy 'Delete' is refused: a static NFS volume has no deleter, so the volume ends up 'Failed' when its claim is deleted. Fix: use ReclaimPolicy.RETAIN."],
  ])('fails when reclaimPolicy is %s', (policy, message) => {
    expect(() => poolOf(chart(), { reclaimPolicy: policy as ReclaimPolicy })).toThrow(`NfsPersistentVolumePool 'test/pool': ${message}`);
  });

  test('fails when two volumes would share a directory', () => {
    expect(() => poolOf(chart(), { basePath: undefined, volumes: undefined, paths: ['/a', '/a'] })).toThrow(
      "NfsPersistentVolumePool 'test/pool': path '/a' appears twice: two volumes would share (and corrupt) one data directory. Fix: give each volume its own path.",
    );
  });

  test('fails on a relative path, a missing basePath and a bad server', () => {
    expect(() => poolOf(chart(), { basePath: 'data' })).toThrow("basePath must be an absolute path without '..', spaces or ':', got 'data'");
    expect(() => poolOf(chart(), { basePath: undefined })).toThrow("basePath is required when paths is not given. Fix: e.g. basePath: '/data/k8s'.");
    expect(() => poolOf(chart(), { server: 'nfs server' })).toThrow("server must be a host name or IP address, got 'nfs server'.");
  });

  test('its volumes are the children Volume0, Volume1, ... whatever the pool is named', () => {
    // ids unique to each pool would cost every object rendered after thousands of pools a hidden
    // class of its own in V8 (tools/bench/README.md): the ids repeat from pool to pool
    const c = chart();
    const pools = ['a', 'b'].map((name) => new NfsPersistentVolumePool(c, name, { server: 'nfs.local', basePath: '/data', volumes: 2 }));
    for (const pool of pools) {
      expect(pool.node.children.map((v) => v.node.id)).toEqual(['Volume0', 'Volume1']);
      expect(pool.volumes.map((v) => v.resource)).toEqual(pool.node.children);
    }
    expect(synth(c).filter((m) => m.kind === 'PersistentVolume').map((m) => m.metadata.name)).toEqual(['a-0', 'a-1', 'b-0', 'b-1']);
  });

  test('escape hatch: each volume\'s L1 object is public', () => {
    const c = chart();
    const pool = poolOf(c);
    ApiObject.of(pool.volumes[0].resource).metadata.addAnnotation('backup', 'nightly');
    expect(find(synth(c), 'PersistentVolume', 'pool-0').metadata.annotations).toEqual({ backup: 'nightly' });
  });
});

describe('binding proof', () => {
  const vol = (name: string, capacityKib: number, reservedFor?: string) =>
    ({ name, capacityKib, accessModes: ['ReadWriteOnce'], storageClassName: 'nfs', labels: { storage: 'pv' }, reservedFor });
  const claim = (key: string, requestKib: number) =>
    ({ key, requestKib, accessModes: ['ReadWriteOnce'], storageClassName: 'nfs', selector: { storage: 'pv' } });

  test('the smallest volume that fits is taken, so a large claim still finds the large volume', () => {
    expect(unboundClaims([vol('big', 100), vol('small', 10)], [claim('ns/a', 50), claim('ns/b', 5)])).toEqual([]);
  });

  test('a claim whose class differs is left unbound, with the reason', () => {
    const other = { ...claim('ns/a', 5), storageClassName: 'fast' };
    expect(unboundClaims([vol('v', 10)], [other])).toEqual([
      { claim: other, reason: "volume v has storageClassName 'nfs', the claim asks for 'fast'" },
    ]);
  });

  test('a selector label the volumes lack leaves the claim unbound', () => {
    const other = { ...claim('ns/a', 5), selector: { storage: 'ssd' } };
    expect(unboundClaims([vol('v', 10)], [other])[0].reason).toBe('volume v lacks the label storage=ssd that the claim selects');
  });

  test('a reserved volume serves only its claim', () => {
    const unbound = unboundClaims([vol('v0', 10, 'ns/a')], [claim('ns/b', 5)]);
    expect(unbound.map((u) => u.reason)).toEqual(['every volume of the pool is reserved for another claim']);
  });
});
