// DatabaseEngine.mysql({ groupReplication }): the synthesized group members (config, the Lease
// decision, the role sidecars, the Role, the Services on the role label), and the default MySQL
// preset left as it was.
import * as kplus from 'cdk8s-plus-27';
import { Size } from 'cdk8s';
import { DatabaseEngine, MysqlGroupReplicationOptions, StatefulDatabase } from '../lib';
import { groupName } from '../lib/database/engines/mysql-group';
import { chart, find, schemaErrors, synth } from './util';

function build(group: MysqlGroupReplicationOptions = {}, name = 'db') {
  const c = chart('data');
  const secret = kplus.Secret.fromSecretName(c, 'creds', 'db-credentials');
  new StatefulDatabase(c, 'db', { name, engine: DatabaseEngine.mysql({ groupReplication: group }), credentials: { secret }, storage: { size: Size.gibibytes(1) } });
  const m = synth(c);
  const sts = find(m, 'StatefulSet');
  return { m, sts, pod: sts.spec.template.spec };
}
const byName = (list: any[], name: string) => list.find((c: any) => c.name === name);
const env = (c: any, name: string) => c.env?.find((e: any) => e.name === name)?.value;

describe('MySQL with Group Replication', () => {
  test('objects: a ServiceAccount with a Role of the Lease and the pods, Services on the role label, the group port on the headless Service only', () => {
    const { m } = build();
    expect(m.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/db-scripts', 'NetworkPolicy/db', 'PodDisruptionBudget/db', 'Role/db', 'RoleBinding/db', 'Service/db', 'Service/db-headless',
      'Service/db-read', 'ServiceAccount/db', 'StatefulSet/db',
    ]);
    expect(find(m, 'Role', 'db').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'update'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] },
    ]);
    expect(find(m, 'Service', 'db').spec.selector).toEqual({ 'app.kubernetes.io/instance': 'db', 'cdk8s-stateful.dev/role': 'primary' });
    expect(find(m, 'Service', 'db-read').spec.selector).toEqual({ 'app.kubernetes.io/instance': 'db', 'cdk8s-stateful.dev/role': 'replica' });
    expect(find(m, 'Service', 'db').spec.ports.map((p: any) => p.port)).toEqual([3306]);
    expect(find(m, 'Service', 'db-headless').spec.ports.map((p: any) => p.port)).toEqual([3306, 33061]);
    // a quorum: the disruption budget keeps a majority up
    expect(find(m, 'PodDisruptionBudget', 'db').spec.maxUnavailable).toBe(1);
    for (const o of m) expect(schemaErrors(o)).toEqual([]);
  });

  test('pod: config and the Lease decision first, then the server beside the group and label sidecars; the API token only here', () => {
    const { pod, sts } = build();
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['config', 'lease']);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['main', 'group', 'label']);
    const lease = byName(pod.initContainers, 'lease');
    expect(lease.image).toBe('docker.io/curlimages/curl:8.14.1');
    expect(lease.command).toEqual(['sh', '/opt/cdk8s-stateful/mysql-group-api.sh', 'lease']);
    expect(env(lease, 'GROUP_LEASE')).toBe('db-group');
    const label = byName(pod.containers, 'label');
    expect(label.command).toEqual(['sh', '/opt/cdk8s-stateful/mysql-group-api.sh', 'label']);
    expect(env(label, 'ROLE_LABEL')).toBe('cdk8s-stateful.dev/role');
    const group = byName(pod.containers, 'group');
    expect(group.image).toBe('mysql:9.7.4');
    expect(group.command).toEqual(['bash', '/opt/cdk8s-stateful/mysql-group.sh', 'member']);
    expect(group.resources.limits).toEqual({ cpu: '500m', memory: '128Mi', 'ephemeral-storage': expect.any(String) });
    // the files the containers exchange, and the server's socket for the group sidecar
    for (const c of [lease, label, group]) expect(c.volumeMounts).toContainEqual({ name: 'group', mountPath: '/var/run/cdk8s-group' });
    expect(group.volumeMounts).toContainEqual({ name: 'run', mountPath: '/var/run/mysqld' });
    const main = byName(pod.containers, 'main');
    expect(main.readinessProbe.exec.command).toEqual(['bash', '/opt/cdk8s-stateful/mysql-group.sh', 'ready']);
    expect(main.readinessProbe.periodSeconds).toBe(2);
    expect(main.readinessProbe.failureThreshold).toBe(1);
    expect(main.lifecycle.preStop.exec.command).toEqual(['bash', '/opt/cdk8s-stateful/mysql-group.sh', 'leave']);
    expect(main.volumeMounts).toContainEqual({ name: 'scripts', mountPath: '/docker-entrypoint-initdb.d/10-group-account.sh', subPath: 'mysql-group-initdb.sh', readOnly: true });
    // no container holds a password in its environment: only the Secret's key names
    for (const c of [...pod.initContainers, ...pod.containers]) {
      for (const e of c.env ?? []) expect(e.name).not.toMatch(/PASSWORD/);
    }
  });

  test('config: the group name, port, allowlist and expel timeout; the group name a UUID derived from the set name', () => {
    const { pod } = build({ ipAllowlist: ['10.244.0.0/16'], memberExpelTimeoutSeconds: 3 }, 'orders');
    const config = byName(pod.initContainers, 'config');
    expect(env(config, 'GROUP_NAME')).toBe(groupName('orders'));
    expect(groupName('orders')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(groupName('orders')).not.toBe(groupName('db'));
    expect(env(config, 'GROUP_ALLOWLIST')).toBe('10.244.0.0/16,127.0.0.1/8');
    expect(env(config, 'MEMBER_EXPEL_TIMEOUT')).toBe('3');
    expect(env(config, 'GROUP_PORT')).toBe('33061');
  });

  test('deterministic: the same app twice gives the same manifests', () => {
    expect(JSON.stringify(build().m)).toBe(JSON.stringify(build().m));
  });

  test('the default MySQL preset: no sidecar, no group Lease (only the founding one), the primary pinned to the first member', () => {
    const c = chart('data');
    new StatefulDatabase(c, 'db', { engine: DatabaseEngine.mysql(), credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'db-credentials') } });
    const m = synth(c);
    const pod = find(m, 'StatefulSet').spec.template.spec;
    expect(pod.containers.map((x: any) => x.name)).toEqual(['main']);
    expect(JSON.stringify(find(m, 'Role').rules)).not.toMatch(/pods|db-group/);
    expect(find(m, 'Service', 'db').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('db-0');
  });
});
