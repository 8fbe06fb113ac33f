import { ApiObject, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  AccessMode, AntiAffinity, ClaimRetention, DatabaseEngine, HealthProbe, StatefulDatabase,
  StatefulConfigError, StorageClass, StorageClassFast, StorageProvider, UpdateStrategy,
} from '../lib';
import { chart, find, synth } from './util';

const engine = DatabaseEngine.custom({ name: 'pg', image: 'postgres:16.6', ports: [{ name: 'pg', port: 5432 }, { name: 'repl', port: 5433, peer: true }], dataPath: '/var/lib/postgresql/data', runAsUser: 999 });

function build(props: Partial<ConstructorParameters<typeof StatefulDatabase>[2]> = {}, namespace = 'prod') {
  const c = chart(namespace);
  const db = new StatefulDatabase(c, 'orders', { engine, ...props });
  return { c, db, out: () => synth(c) };
}

describe('StatefulDatabase', () => {
  test('defaults: names from the id, Retain/Retain, OrderedReady, restricted security, PDB of 1', () => {
    const { out } = build();
    const m = out();
    expect(m.map((x) => `${x.kind}/${x.metadata.name}`)).toEqual([
      'Service/orders-headless', 'StatefulSet/orders', 'Service/orders', 'NetworkPolicy/orders', 'PodDisruptionBudget/orders',
    ]);
    const sts = find(m, 'StatefulSet');
    expect(sts.spec).toMatchObject({
      serviceName: 'orders-headless',
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      selector: { matchLabels: { 'app.kubernetes.io/instance': 'orders' } },
    });
    expect(sts.spec.volumeClaimTemplates).toEqual([{
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
    }]);
    const pod = sts.spec.template.spec;
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 999, runAsGroup: 999,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: 'data', mountPath: '/var/lib/postgresql/data' }, { name: 'tmp', mountPath: '/tmp' },
    ]);
    expect(pod.containers[0].readinessProbe).toEqual({ tcpSocket: { port: 5432 }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(find(m, 'PodDisruptionBudget').spec).toEqual({
      maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/instance': 'orders' } }, unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
  });

  test('peer ports go on the headless Service only; clients see client ports', () => {
    const m = build().out();
    expect(find(m, 'Service', 'orders-headless').spec.ports.map((p: any) => p.name)).toEqual(['pg', 'repl']);
    expect(find(m, 'Service', 'orders').spec.ports.map((p: any) => p.name)).toEqual(['pg']);
    expect(find(m, 'Service', 'orders').spec.type).toBe('ClusterIP');
  });

  test('names are API: pod DNS names, peer addresses and claim names follow from what the user wrote', () => {
    const { db } = build({ replicas: 3, startOrdinal: 2, name: 'pg', headlessServiceName: 'pg-peers', clusterDomain: 'corp.local' });
    expect(db.podDnsName(2)).toBe('pg-2.pg-peers.prod.svc.corp.local');
    expect(db.peerAddresses).toEqual([
      'pg-2.pg-peers.prod.svc.corp.local', 'pg-3.pg-peers.prod.svc.corp.local', 'pg-4.pg-peers.prod.svc.corp.local',
    ]);
    expect(db.claimNames()).toEqual(['data-pg-2', 'data-pg-3', 'data-pg-4']);
  });

  test('names do not depend on where the construct sits in the tree', () => {
    const c = chart('prod');
    const nested = new StatefulDatabase(new Construct(new Construct(c, 'team'), 'billing'), 'orders', { engine });
    expect(nested.name).toBe('orders');
    expect(nested.podDnsName(0)).toBe('orders-0.orders-headless.prod.svc.cluster.local');
    expect(find(synth(c), 'StatefulSet').metadata.name).toBe('orders');
  });

  test('props: replicas, start ordinal, policies, partition, retention by explicit opt-in, anti-affinity', () => {
    const sts = find(build({
      replicas: 3, startOrdinal: 1, podManagementPolicy: kplus.PodManagementPolicy.PARALLEL,
      updateStrategy: UpdateStrategy.rollingUpdate({ partition: 2 }),
      claimRetentionWhenDeleted: ClaimRetention.DELETE, claimRetentionWhenScaled: ClaimRetention.RETAIN,
      antiAffinity: AntiAffinity.REQUIRED, terminationGracePeriod: Duration.seconds(120),
    }).out(), 'StatefulSet');
    expect(sts.spec).toMatchObject({
      replicas: 3, ordinals: { start: 1 }, podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
    });
    expect(sts.spec.template.spec.terminationGracePeriodSeconds).toBe(120);
    expect(sts.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(find(build({ updateStrategy: UpdateStrategy.onDelete(), antiAffinity: AntiAffinity.NONE }).out(), 'StatefulSet').spec)
      .toMatchObject({ updateStrategy: { type: 'OnDelete' } });
  });

  test('storage on a class, and an archive claim on another', () => {
    const c = chart('prod');
    const fast = new StorageClassFast(c, 'fast', { provider: StorageProvider.aws() });
    new StatefulDatabase(c, 'orders', {
      engine,
      storage: { storageClass: fast, size: Size.gibibytes(50), accessModes: [AccessMode.READ_WRITE_ONCE_POD] },
      extraVolumeClaims: [{ name: 'archive', mountPath: '/archive', storageClass: StorageClass.fromStorageClassName('slow'), size: Size.tebibytes(1) }],
    });
    const sts = find(synth(c), 'StatefulSet');
    expect(sts.spec.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.storageClassName, t.spec.resources.requests.storage, t.spec.accessModes]))
      .toEqual([['data', 'fast', '50Gi', ['ReadWriteOncePod']], ['archive', 'slow', '1Ti', ['ReadWriteOnce']]]);
    expect(sts.spec.template.spec.containers[0].volumeMounts.map((v: any) => `${v.name}:${v.mountPath}`))
      .toEqual(['data:/var/lib/postgresql/data', 'archive:/archive', 'tmp:/tmp']);
  });

  test('ordered init containers share scratch volumes with the database container', () => {
    const sts = find(build({
      scratchVolumes: [{ name: 'config', sizeLimit: Size.mebibytes(1) }],
      mounts: [{ volume: 'config', path: '/etc/pg', readOnly: true }],
      initContainers: [
        { name: 'install', image: 'busybox:1.36.1', command: ['sh', '-c', 'true'], mounts: [{ volume: 'config', path: '/config' }] },
        { name: 'bootstrap', image: 'busybox:1.36.1', mounts: [{ volume: 'data', path: '/data' }] },
      ],
    }).out(), 'StatefulSet');
    const pod = sts.spec.template.spec;
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['install', 'bootstrap']);
    expect(pod.initContainers[0].securityContext).toEqual(pod.containers[0].securityContext);
    expect(pod.initContainers[0].volumeMounts).toEqual([{ name: 'config', mountPath: '/config' }, { name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'config', emptyDir: { sizeLimit: '1Mi' } }, { name: 'tmp', emptyDir: {} }]);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/pg', readOnly: true });
  });

  test('credentials come from a Secret reference, never a literal', () => {
    const c = chart('prod');
    const secret = kplus.Secret.fromSecretName(c, 's', 'orders-credentials');
    new StatefulDatabase(c, 'orders', { engine, env: { POSTGRES_PASSWORD: kplus.EnvValue.fromSecretValue({ secret, key: 'password' }), PGDATA: kplus.EnvValue.fromValue('/x') } });
    expect(find(synth(c), 'StatefulSet').spec.template.spec.containers[0].env).toEqual([
      { name: 'PGDATA', value: '/x' },
      { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: 'orders-credentials', key: 'password' } } },
    ]);
  });

  test('credentials: the Secret is mounted read-only in every container, and *_FILE paths are not literals', () => {
    const c = chart('prod');
    const secret = kplus.Secret.fromSecretName(c, 's', 'orders-credentials');
    new StatefulDatabase(c, 'orders', {
      engine,
      credentials: { secret },
      env: { POSTGRES_PASSWORD_FILE: kplus.EnvValue.fromValue(`${StatefulDatabase.CREDENTIALS_PATH}/root-password`) },
      initContainers: [{ name: 'init', image: 'busybox:1.36.1' }],
    });
    const pod = find(synth(c), 'StatefulSet').spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'credentials', secret: { secretName: 'orders-credentials', defaultMode: 0o440 } });
    for (const container of [...pod.initContainers, ...pod.containers]) {
      expect(container.volumeMounts).toContainEqual({ name: 'credentials', mountPath: '/run/secrets/db', readOnly: true });
    }
    expect(pod.containers[0].env).toEqual([{ name: 'POSTGRES_PASSWORD_FILE', value: '/run/secrets/db/root-password' }]);
  });

  test('scheduling defaults: restartPolicy Always, zone spread that never blocks, no liveness probe unless asked', () => {
    const pod = find(build().out(), 'StatefulSet').spec.template.spec;
    expect(pod.restartPolicy).toBe('Always');
    expect(pod.topologySpreadConstraints).toEqual([{
      maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { 'app.kubernetes.io/instance': 'orders' } },
    }]);
    expect(pod.containers[0].livenessProbe).toBeUndefined();
  });

  test('props: resources and probes', () => {
    const sts = find(build({
      resources: { cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(2) }, memory: { request: Size.gibibytes(2), limit: Size.gibibytes(2) } },
      readinessProbe: HealthProbe.http('/healthz', 5432),
      livenessProbe: HealthProbe.command(['pg_isready'], { initialDelay: Duration.seconds(20), failureThreshold: 6 }),
    }).out(), 'StatefulSet');
    const main = sts.spec.template.spec.containers[0];
    expect(main.resources).toEqual({
      requests: { 'cpu': '500m', 'memory': '2Gi', 'ephemeral-storage': '64Mi' },
      limits: { 'cpu': '2', 'memory': '2Gi', 'ephemeral-storage': '1Gi' },
    });
    expect(main.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 5432 });
    expect(main.livenessProbe).toEqual({ exec: { command: ['pg_isready'] }, initialDelaySeconds: 20, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 });
  });

  test('resources: a default never contradicts a given value: a request alone raises the default limit, a limit alone lowers the default request', () => {
    const main = find(build({ resources: { cpu: { request: kplus.Cpu.units(2) }, memory: { limit: Size.mebibytes(256) } } }).out(), 'StatefulSet')
      .spec.template.spec.containers[0];
    expect(main.resources).toEqual({
      requests: { 'cpu': '2', 'memory': '256Mi', 'ephemeral-storage': '64Mi' },
      limits: { 'cpu': '2', 'memory': '256Mi', 'ephemeral-storage': '1Gi' },
    });
  });

  test('init containers: a preset\'s server-running one gets the database\'s resources, its file writers initContainerResources, the user\'s their own', () => {
    const c = chart('prod');
    new StatefulDatabase(c, 'orders', {
      engine: DatabaseEngine.mysql(),
      credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'orders-credentials') },
      resources: { memory: { request: Size.gibibytes(4), limit: Size.gibibytes(8) } },
      initContainerResources: { cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(200) }, memory: { request: Size.mebibytes(32), limit: Size.mebibytes(64) } },
      initContainers: [{ name: 'mine', image: 'busybox:1.36.1', command: ['true'] }],
    });
    const pod = find(synth(c), 'StatefulSet').spec.template.spec;
    const byName = Object.fromEntries(pod.initContainers.map((i: any) => [i.name, i.resources]));
    expect(byName.clone).toEqual(pod.containers[0].resources);
    expect(byName.clone.limits.memory).toBe('8Gi');
    expect(byName.config).toEqual({
      requests: { 'cpu': '50m', 'memory': '32Mi', 'ephemeral-storage': '64Mi' },
      limits: { 'cpu': '200m', 'memory': '64Mi', 'ephemeral-storage': '1Gi' },
    });
    expect(byName.mine).toEqual({
      requests: { 'cpu': '250m', 'memory': '512Mi', 'ephemeral-storage': '64Mi' },
      limits: { 'cpu': '1', 'memory': '1Gi', 'ephemeral-storage': '1Gi' },
    });
  });

  test('clientService: false leaves only the headless Service', () => {
    expect(build({ clientService: false }).out().filter((m) => m.kind === 'Service').map((m) => m.metadata.name)).toEqual(['orders-headless']);
  });

  test('escape hatches: ApiObject.of(db) is the StatefulSet; helper objects are public', () => {
    const { c, db } = build();
    expect(ApiObject.of(db)).toBe(db.resource);
    ApiObject.of(db).metadata.addAnnotation('owner', 'team-a');
    db.podDisruptionBudget!.metadata.addLabel('tier', 'db');
    const m = synth(c);
    expect(find(m, 'StatefulSet').metadata.annotations).toEqual({ owner: 'team-a' });
    expect(find(m, 'PodDisruptionBudget').metadata.labels).toEqual({ tier: 'db' });
    expect(db.headlessService.serviceName).toBe('orders-headless');
  });

  describe('fails when', () => {
    const err = (props: Partial<ConstructorParameters<typeof StatefulDatabase>[2]>) => {
      try {
        build(props);
      } catch (e) {
        expect(e).toBeInstanceOf(StatefulConfigError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };

    test('a password is a literal', () => {
      expect(err({ env: { POSTGRES_PASSWORD: kplus.EnvValue.fromValue('hunter2') } })).toBe(
        "StatefulDatabase 'test/orders': the database container sets 'POSTGRES_PASSWORD' to a literal value: a credential would be written into the YAML in plain text. " +
          "Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), pass credentials: { secret } and read the file: e.g. POSTGRES_PASSWORD_FILE=/run/secrets/db/<key>.",
      );
    });

    test('the name is not a DNS label', () => {
      expect(err({ name: 'Orders' })).toBe(
        "StatefulDatabase 'test/orders': name must be a DNS-1123 label of at most 52 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'Orders'. Fix: use a name such as 'orders-db'.",
      );
    });

    test('replicas are out of range', () => {
      expect(err({ replicas: -1 })).toBe("StatefulDatabase 'test/orders': replicas must be a whole number from 0 to 1000, got -1. Fix: use 1 or more replicas (0 only to pause the set).");
      expect(err({ replicas: 1.5 })).toContain('got 1.5');
    });

    test('an init container mounts a volume that does not exist', () => {
      expect(err({ initContainers: [{ name: 'init', image: 'busybox:1.36.1', mounts: [{ volume: 'config', path: '/c' }] }] })).toBe(
        "StatefulDatabase 'test/orders': container 'init' mounts volume 'config', which does not exist (volumes: tmp, data). Fix: declare it in scratchVolumes or extraVolumeClaims, or mount an existing one.",
      );
    });

    test('an image is not pinned', () => {
      expect(err({ initContainers: [{ name: 'init', image: 'busybox' }] })).toBe(
        "StatefulDatabase 'test/orders': image of init container 'init' must name a pinned tag or digest (not 'latest'), got 'busybox'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:…', so every replica runs the same build.",
      );
      expect(err({ engine: DatabaseEngine.custom({ image: 'postgres:latest', ports: [{ name: 'pg', port: 5432 }] }) })).toContain("got 'postgres:latest'");
    });

    test('storage gives both a pool and a class', () => {
      const c = chart();
      expect(() => new StatefulDatabase(c, 'x', {
        engine,
        storage: { storageClass: StorageClass.fromStorageClassName('fast'), pool: { storageClassName: 'p', selectorLabels: {}, capacity: Size.gibibytes(1), accessModes: [], addClaims: () => {} } },
      })).toThrow("StatefulDatabase 'test/x': storage gives both pool and storageClass. Fix: keep one: a pool for static volumes, a class for dynamic provisioning.");
    });

    test('an extra claim has no mount path', () => {
      expect(err({ extraVolumeClaims: [{ name: 'archive' }] })).toBe(
        'StatefulDatabase \'test/orders\': extraVolumeClaims[0] needs a name and a mountPath, got {"name":"archive"}. Fix: e.g. { name: \'archive\', mountPath: \'/archive\', storageClass: slow }.',
      );
    });

    test('a probe targets a port the container does not expose', () => {
      expect(err({ readinessProbe: HealthProbe.tcp(8080) })).toBe(
        "StatefulDatabase 'test/orders': readinessProbe targets port 8080, which the container does not expose (ports: 5432, 5433). Fix: probe one of the engine's ports.",
      );
    });

    test('maxUnavailable is 0 (a drain could never proceed)', () => {
      expect(err({ maxUnavailable: 0 })).toBe(
        "StatefulDatabase 'test/orders': maxUnavailable must be a whole number from 1 to 1, got 0. Fix: allow at least 1 disruption (0 blocks every node drain) and at most the replica count.",
      );
    });

    test('two volumes share a name', () => {
      expect(err({ scratchVolumes: [{ name: 'data' }] })).toBe(
        "StatefulDatabase 'test/orders': volume name 'data' is used twice. Fix: give every claim template and scratch volume its own name.",
      );
    });
  });
});
