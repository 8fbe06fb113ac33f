import { ApiObject, JsonPatch, Size } from 'cdk8s';
import { DatabaseEngine, ReclaimPolicy, StatefulDatabase, StorageClass, StorageClassFast, StorageClassSlow, StorageProvider, VolumeBindingMode } from '../lib';
import { chart, find, synth } from './util';

describe('StorageClassFast / StorageClassSlow', () => {
  test('defaults keep data: Retain, WaitForFirstConsumer, expansion allowed, no default annotation', () => {
    const c = chart();
    new StorageClassFast(c, 'fast', { provider: StorageProvider.gce() });
    expect(find(synth(c), 'StorageClass', 'fast')).toEqual({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'fast' },
      provisioner: 'pd.csi.storage.gke.io',
      parameters: { type: 'pd-ssd' },
      reclaimPolicy: 'Retain',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
    });
  });

  test.each([
    ['gce', StorageProvider.gce(), 'pd.csi.storage.gke.io', { type: 'pd-ssd' }, { type: 'pd-standard' }],
    ['aws', StorageProvider.aws(), 'ebs.csi.aws.com', { type: 'gp3', encrypted: 'true' }, { type: 'st1', encrypted: 'true' }],
    ['azure', StorageProvider.azure(), 'disk.csi.azure.com', { skuName: 'Premium_LRS' }, { skuName: 'Standard_LRS' }],
    ['custom', StorageProvider.custom({ provisioner: 'rbd.csi.ceph.com', fastParameters: { pool: 'ssd' }, slowParameters: { pool: 'hdd' } }),
      'rbd.csi.ceph.com', { pool: 'ssd' }, { pool: 'hdd' }],
  ])('%s: SSD parameters on the fast class, HDD on the slow one', (_, provider, provisioner, fastParams, slowParams) => {
    const c = chart();
    new StorageClassFast(c, 'fast', { provider });
    new StorageClassSlow(c, 'slow', { provider });
    const out = synth(c);
    expect(find(out, 'StorageClass', 'fast')).toMatchObject({ provisioner, parameters: fastParams });
    expect(find(out, 'StorageClass', 'slow')).toMatchObject({ provisioner, parameters: slowParams });
    expect(find(out, 'StorageClass', 'fast').parameters).toEqual(fastParams);
  });

  test('EBS classes are encrypted unless their parameters say otherwise; st1/sc1 know their 125 GiB minimum', () => {
    const c = chart();
    const plain = new StorageClass(c, 'plain', { provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3', encrypted: 'false' } });
    const cold = new StorageClass(c, 'cold', { provisioner: 'ebs.csi.aws.com', parameters: { type: 'sc1' } });
    const slow = new StorageClassSlow(c, 'slow', { provider: StorageProvider.aws() });
    const fast = new StorageClassFast(c, 'fast', { provider: StorageProvider.aws() });
    const out = synth(c);
    expect(find(out, 'StorageClass', 'plain').parameters).toEqual({ type: 'gp3', encrypted: 'false' });
    expect(find(out, 'StorageClass', 'cold').parameters).toEqual({ type: 'sc1', encrypted: 'true' });
    expect([plain, cold, slow, fast].map((x) => x.minimumVolumeSize?.toGibibytes())).toEqual([undefined, 125, 125, undefined]);
    // a claim of exactly 125 GiB on st1 is fine
    expect(() => new StatefulDatabase(c, 'db', { engine: DatabaseEngine.custom({ image: 'postgres:16.6', ports: [{ name: 'pg', port: 5432 }] }),
      storage: { storageClass: slow, size: Size.gibibytes(125) } })).not.toThrow();
  });

  test('props: name, default class, binding mode, expansion, mount options, Delete by explicit choice', () => {
    const c = chart();
    new StorageClassSlow(c, 'archive', {
      provider: StorageProvider.aws(),
      name: 'cold',
      isDefault: true,
      volumeBindingMode: VolumeBindingMode.IMMEDIATE,
      allowVolumeExpansion: false,
      mountOptions: ['noatime'],
      reclaimPolicy: ReclaimPolicy.DELETE,
    });
    expect(find(synth(c), 'StorageClass', 'cold')).toMatchObject({
      metadata: { name: 'cold', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      volumeBindingMode: 'Immediate',
      allowVolumeExpansion: false,
      mountOptions: ['noatime'],
      reclaimPolicy: 'Delete',
    });
  });

  test('cluster-scoped: no namespace even in a namespaced chart', () => {
    const c = chart('prod');
    new StorageClassFast(c, 'fast', { provider: StorageProvider.gce() });
    expect(find(synth(c), 'StorageClass').metadata).toEqual({ name: 'fast' });
  });

  test('fails when the name is not a DNS subdomain', () => {
    expect(() => new StorageClassFast(chart(), 'fast', { provider: StorageProvider.gce(), name: 'Fast_SSD' })).toThrow(
      "StorageClassFast 'test/fast': name must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'Fast_SSD'. Fix: use a name such as 'fast' or 'nfs-web-0'.",
    );
  });

  test('a name taken from the construct id says so, and suggests name:', () => {
    expect(() => new StorageClassFast(chart(), 'Fast_SSD', { provider: StorageProvider.gce() })).toThrow(
      "StorageClassFast 'test/Fast_SSD': name (taken from the construct id, as no name was given) must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'Fast_SSD'. Fix: pass name: 'fast-ssd', or use a lower-case construct id.",
    );
  });

  test('fails when the provisioner is empty', () => {
    expect(() => new StorageClass(chart(), 'x', { provisioner: '' })).toThrow(
      "StorageClass 'test/x': provisioner must be set, got ''. Fix: name the CSI driver, e.g. 'ebs.csi.aws.com'.",
    );
  });

  test('fromStorageClassName refers to a class the app does not own', () => {
    expect(StorageClass.fromStorageClassName('glusterfs').storageClassName).toBe('glusterfs');
  });

  test('escape hatch: ApiObject.of reaches the StorageClass', () => {
    const c = chart();
    const fast = new StorageClassFast(c, 'fast', { provider: StorageProvider.gce() });
    ApiObject.of(fast).addJsonPatch(JsonPatch.add('/parameters/replication-type', 'regional-pd'));
    expect(find(synth(c), 'StorageClass').parameters).toEqual({ 'type': 'pd-ssd', 'replication-type': 'regional-pd' });
    expect(ApiObject.of(fast)).toBe(fast.resource);
  });
});
