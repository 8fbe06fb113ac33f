import { ApiObject, JsonPatch } from 'cdk8s';
import { ReclaimPolicy, StorageClass, StorageClassFast, StorageClassSlow, StorageProvider, VolumeBindingMode } from '../lib';
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
    ['aws', StorageProvider.aws(), 'ebs.csi.aws.com', { type: 'gp3' }, { type: 'st1' }],
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
    expect(() => new StorageClassFast(chart(), 'Fast_SSD', { provider: StorageProvider.gce() })).toThrow(
      "StorageClassFast 'test/Fast_SSD': name must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'Fast_SSD'. Fix: use a name such as 'fast' or 'nfs-web-0'.",
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
