import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { HeadlessService } from '../lib';
import { chart, find, synth } from './util';

const props = { selector: { 'app.kubernetes.io/instance': 'db' }, ports: [{ name: 'mysql', port: 3306 }], statefulSetName: 'db' };

describe('HeadlessService', () => {
  test('defaults: clusterIP None, not-ready addresses published, named ports, selector', () => {
    const c = chart('prod');
    new HeadlessService(c, 'db-headless', props);
    expect(find(synth(c), 'Service')).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db-headless', namespace: 'prod' },
      spec: {
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: { 'app.kubernetes.io/instance': 'db' },
        ports: [{ name: 'mysql', port: 3306, targetPort: 3306, protocol: 'TCP' }],
      },
    });
  });

  test('podDnsName: <set>-<n>.<service>.<namespace>.svc.<clusterDomain>', () => {
    const svc = new HeadlessService(chart('ns'), 'x', { ...props, name: 'db-peers', clusterDomain: 'corp.local' });
    expect(svc.podDnsName(2)).toBe('db-2.db-peers.ns.svc.corp.local');
  });

  test('a chart without a namespace gives names in `default`, as kubectl would', () => {
    expect(new HeadlessService(chart(), 'db-headless', props).podDnsName(0)).toBe('db-0.db-headless.default.svc.cluster.local');
  });

  test('props: publishNotReadyAddresses off, target port and protocol', () => {
    const c = chart();
    new HeadlessService(c, 'h', { ...props, publishNotReadyAddresses: false, ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: kplus.Protocol.UDP }] });
    expect(find(synth(c), 'Service').spec).toMatchObject({ publishNotReadyAddresses: false, ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }] });
  });

  test('fails when a port name is too long for a DNS SRV label', () => {
    expect(() => new HeadlessService(chart(), 'h', { ...props, ports: [{ name: 'replication-port', port: 1 }] })).toThrow(
      "HeadlessService 'test/h': port name must be a DNS-1123 label of at most 15 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'replication-port'. Fix: use a name such as 'orders-db'.",
    );
  });

  test('fails on a port out of range, a duplicate port, an empty selector', () => {
    expect(() => new HeadlessService(chart(), 'h', { ...props, ports: [{ name: 'x', port: 70000 }] })).toThrow(
      "HeadlessService 'test/h': port 'x' must be a whole number from 1 to 65535, got 70000. Fix: use a port number from 1 to 65535.",
    );
    expect(() => new HeadlessService(chart(), 'h', { ...props, ports: [{ name: 'a', port: 1 }, { name: 'b', port: 1 }] })).toThrow(
      "HeadlessService 'test/h': ports has port 1/TCP twice. Fix: give each port a distinct name and number.",
    );
    expect(() => new HeadlessService(chart(), 'h', { ...props, selector: {} })).toThrow(
      "HeadlessService 'test/h': selector is empty: the Service would select every pod of the namespace. Fix: give the labels of the StatefulSet's pods.",
    );
  });

  test('escape hatch: ApiObject.of reaches the Service', () => {
    const c = chart();
    const svc = new HeadlessService(c, 'h', props);
    ApiObject.of(svc).metadata.addAnnotation('a', 'b');
    expect(find(synth(c), 'Service').metadata.annotations).toEqual({ a: 'b' });
  });
});
