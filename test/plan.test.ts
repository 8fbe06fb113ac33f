import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import * as fc from 'fast-check';
import { isDeepStrictEqual } from 'util';
import {
  AccessMode, ChangeApprovals, ChangeGuard, ClaimRetention, DatabaseEngine, MariaDbVersion, NfsPersistentVolumePool,
  PostgresVersion, StatefulConfigError, StatefulDatabase, StorageClass,
} from '../lib';
import { loadBaseline } from '../lib/plan/baseline';
import { FALLBACK, fastParse, fullParse, splitDocuments } from '../lib/plan/yaml-reader';
import { Build, appOf, deploy, next, outdir, read, refusal } from './plan-util';

const engine = DatabaseEngine.custom({ image: 'postgres:16.6', ports: [{ name: 'pg', port: 5432 }], runAsUser: 999 });

interface Shape {
  readonly replicas?: number;
  readonly size?: number;
  readonly expandable?: boolean;
  readonly classOf?: 'fast' | 'external';
  readonly headless?: string;
  readonly policy?: kplus.PodManagementPolicy;
  readonly accessModes?: AccessMode[];
  readonly archive?: boolean;
  readonly whenScaled?: ClaimRetention;
  readonly changeApprovals?: ChangeApprovals;
  readonly engine?: DatabaseEngine;
  readonly provisioner?: string;
  readonly reclaim?: 'Retain' | 'Delete';
  readonly binding?: 'Immediate';
}

/** One database on a class `fast` of this app (or a class it does not own), shaped by `s`. */
const db = (s: Shape = {}): Build => (chart) => {
  const fast = new StorageClass(chart, 'fast', {
    provisioner: s.provisioner ?? 'ebs.csi.aws.com', parameters: { type: 'gp3' },
    allowVolumeExpansion: s.expandable ?? true, volumeBindingMode: s.binding as any,
    reclaimPolicy: s.reclaim as any,
  });
  new StatefulDatabase(chart, 'db', {
    engine: s.engine ?? engine,
    replicas: s.replicas ?? 3,
    headlessServiceName: s.headless,
    podManagementPolicy: s.policy,
    storage: {
      storageClass: s.classOf === 'external' ? StorageClass.fromStorageClassName('gp2') : fast,
      size: Size.gibibytes(s.size ?? 10), accessModes: s.accessModes,
    },
    extraVolumeClaims: s.archive ? [{ name: 'archive', mountPath: '/archive', storageClass: fast, size: Size.gibibytes(1) }] : undefined,
    claimRetentionWhenScaled: s.whenScaled,
    changeApprovals: s.changeApprovals,
  });
};

const zk = (replicas: number): Build => (chart) => {
  new StatefulDatabase(chart, 'db', { engine: DatabaseEngine.zookeeper(), replicas });
};
const galera = (replicas: number): Build => (chart) => {
  const secret = kplus.Secret.fromSecretName(chart, 'creds', 'galera-credentials');
  new StatefulDatabase(chart, 'db', { engine: DatabaseEngine.mariadbGalera({ version: MariaDbVersion.VER_11_4_4 }), replicas, credentials: { secret } });
};

/** Deploys `before` into a fresh directory and returns it. */
function deployed(before: Build): string {
  const dir = outdir();
  deploy(dir, before);
  return dir;
}

const STS = "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db";
const ORPHAN = 'set changeApprovals: { orphanDelete: true } on the database, run `kubectl -n ns delete statefulset db --cascade=orphan` right before the apply';

describe('the baseline', () => {
  test('a first synth compares nothing; the same app again finds nothing and writes the same bytes', () => {
    const dir = outdir();
    expect(next(dir, db()).findings).toEqual([]);
    const first = deploy(dir, db());
    const again = next(dir, db());
    expect(again.findings).toEqual([]);
    expect(again.manifests).toEqual(first);
  });

  test('CDK8S_STATEFUL_BASELINE=off turns the comparison off; a directory name makes it the baseline', () => {
    const dir = deployed(db());
    try {
      process.env.CDK8S_STATEFUL_BASELINE = 'off';
      expect(refusal(dir, db({ headless: 'peers' }))).toBe('');
      process.env.CDK8S_STATEFUL_BASELINE = dir;
      expect(refusal(outdir(), db({ headless: 'peers' }))).toContain(`${STS} spec.serviceName`);
    } finally {
      delete process.env.CDK8S_STATEFUL_BASELINE;
    }
  });

  test('under the CLI (output directory emptied before the app runs), the manifests committed there at git HEAD are the baseline', () => {
    const repo = outdir();
    const git = (...args: string[]) => {
      const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, encoding: 'utf-8' });
      if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    };
    git('init', '-q');
    const dist = path.join(repo, 'dist');
    deploy(dist, db());
    git('add', 'dist');
    git('commit', '-q', '-m', 'deployed');
    fs.rmSync(dist, { recursive: true });
    fs.mkdirSync(dist); // what `cdk8s synth` leaves before the app runs
    expect(refusal(dist, db({ headless: 'peers' }))).toContain(`${STS} spec.serviceName`);
    expect(refusal(dist, db())).toBe('');
    // an explicit baseline directory is taken as it is: empty means nothing to compare
    const explicit = appOf(dist, db({ headless: 'peers' }), 'ns', { baselineDir: dist });
    expect(() => explicit.synthYaml()).not.toThrow();
  });

  test('without ChangeGuard.attach the app reads nothing: a broken manifest in its output directory is never opened', () => {
    const dir = outdir();
    fs.writeFileSync(path.join(dir, 'broken.k8s.yaml'), 'kind: StatefulSet\nmetadata: {name: [\n');
    expect(() => appOf(dir, db(), 'ns', false).synthYaml()).not.toThrow();
    // attached, the guard reads the file when attached, and parses its documents at synth
    const app = new App({ outdir: dir });
    expect(() => ChangeGuard.attach(app)).not.toThrow();
    fs.rmSync(path.join(dir, 'broken.k8s.yaml'));
    expect(() => app.synthYaml()).toThrow(/^cannot read the deployed manifests in /);
  });

  test('attach once per app', () => {
    const app = new App({ outdir: outdir() });
    ChangeGuard.attach(app);
    expect(() => ChangeGuard.attach(app)).toThrow("ChangeGuard '': is attached to this app twice. Fix: call ChangeGuard.attach(app) once, with every option.");
  });

  test('a baseline that cannot be read fails synth, naming the file and the way out', () => {
    const dir = outdir();
    fs.writeFileSync(path.join(dir, 'broken.k8s.yaml'), 'kind: StatefulSet\nmetadata: {name: [\n');
    expect(refusal(dir, db())).toMatch(new RegExp(`^cannot read the deployed manifests in ${dir}/broken.k8s.yaml: .*Fix: repair or remove the file, point CDK8S_STATEFUL_BASELINE at another directory, or set it to 'off'.$`, 's'));
  });

  test('attach() options: another baseline directory; an app without the guard compares nothing', () => {
    const dir = deployed(db());
    const elsewhere = appOf(outdir(), db({ headless: 'peers' }), 'ns', { baselineDir: dir });
    expect(() => elsewhere.synthYaml()).toThrow(/spec.serviceName/);
    const unguarded = appOf(dir, db({ headless: 'peers' }), 'ns', false);
    expect(ChangeGuard.of(unguarded)).toBeUndefined();
    expect(() => unguarded.synthYaml()).not.toThrow();
    expect(refusal(dir, db({ headless: 'peers' }))).toContain('spec.serviceName');
  });
});

describe('immutable StatefulSet fields', () => {
  const dir = deployed(db());

  test.each<[string, Shape, string]>([
    ['serviceName', { headless: 'peers' }, "spec.serviceName from 'db-headless' to 'peers'"],
    ['podManagementPolicy', { policy: kplus.PodManagementPolicy.PARALLEL }, "spec.podManagementPolicy from 'OrderedReady' to 'Parallel'"],
    ['a claim template\'s access modes', { accessModes: [AccessMode.READ_WRITE_ONCE_POD] }, 'spec.volumeClaimTemplates[data].spec.accessModes from ["ReadWriteOnce"] to ["ReadWriteOncePod"]'],
    ['a claim template\'s class', { classOf: 'external' }, "spec.volumeClaimTemplates[data].spec.storageClassName from 'fast' to 'gp2'"],
    ['an added claim template', { archive: true }, 'spec.volumeClaimTemplates from ["data"] to ["data","archive"]'],
  ])('%s is refused with the orphan-delete recipe', (_, shape, change) => {
    const message = refusal(dir, db(shape));
    expect(message).toContain(`${STS} ${change}: the API server refuses it (422 Unprocessable Entity`);
    expect(message).toContain(`Fix: keep`);
    expect(message).toContain(ORPHAN);
  });

  test('the selector (through an escape hatch) is refused', () => {
    const message = refusal(dir, (chart) => {
      db()(chart);
      ApiObject.of(chart.node.findChild('db')).addJsonPatch(JsonPatch.add('/spec/selector/matchLabels/tier', 'db'));
    });
    expect(message).toContain(`${STS} spec.selector from {"matchLabels":{"app.kubernetes.io/instance":"db"}} to {"matchLabels":{"app.kubernetes.io/instance":"db","tier":"db"}}`);
  });

  test('with orphanDelete the change is allowed and the plan spells out the orphan delete', () => {
    const { findings, manifests } = next(dir, db({ headless: 'peers', changeApprovals: { orphanDelete: true } }));
    expect(findings).toEqual([
      "StatefulDatabase 'test/db': changes StatefulSet ns/db spec.serviceName from 'db-headless' to 'peers': " +
        "the API server refuses it in place (422 Unprocessable Entity: a StatefulSet's spec may change only in replicas, ordinals, template, updateStrategy, persistentVolumeClaimRetentionPolicy and minReadySeconds). " +
        'Before the apply: run `kubectl -n ns delete statefulset db --cascade=orphan` right before the apply (pods and claims keep running, the new set adopts them), then apply.',
    ]);
    expect(manifests.find((m) => m.kind === 'StatefulSet').spec.serviceName).toBe('peers');
  });

  test('replicas, template, updateStrategy and minReadySeconds may change', () => {
    expect(next(dir, (chart) => {
      db({ replicas: 5 })(chart);
      ApiObject.of(chart.node.findChild('db')).addJsonPatch(JsonPatch.add('/spec/minReadySeconds', 10));
    }).findings).toEqual([]);
  });
});

describe('storage', () => {
  test('a size decrease is refused', () => {
    expect(refusal(deployed(db()), db({ size: 5 }))).toBe(
      `${STS} spec.volumeClaimTemplates[data].spec.resources.requests.storage from '10Gi' to '5Gi': a claim never shrinks ` +
      '(the API server refuses it with 422: the request may not be less than the previous value, and a claim template may not change at all). ' +
      "Fix: keep '10Gi'. To really use less, move the data to a claim template of a new name (a new set, or orphanDelete) and copy it over.");
  });

  test('an increase on a class without allowVolumeExpansion is refused', () => {
    expect(refusal(deployed(db({ expandable: false })), db({ expandable: false, size: 20 }))).toContain(
      "from '10Gi' to '20Gi': StorageClass 'fast' does not set allowVolumeExpansion: the API server refuses the larger request (403 Forbidden). Fix: keep '10Gi', or allow expansion on the class first");
  });

  test('an increase on a class outside the app is refused unless the class is declared expandable', () => {
    const dir = deployed(db({ classOf: 'external' }));
    expect(refusal(dir, db({ classOf: 'external', size: 20 }))).toContain(
      "StorageClass 'gp2' is not part of this app, so synth cannot tell whether it allows expansion");
    const app = appOf(dir, db({ classOf: 'external', size: 20 }), 'ns', { expandableClasses: ['gp2'] });
    expect(() => app.synthYaml()).not.toThrow();
  });

  test('an increase on an expandable class: the template keeps its size, the output carries every claim with the new one', () => {
    const dir = deployed(db());
    const { manifests, findings } = next(dir, db({ size: 20 }));
    expect(findings).toEqual([expect.stringContaining("changes StatefulSet ns/db spec.volumeClaimTemplates[data].spec.resources.requests.storage from '10Gi' to '20Gi': StorageClass 'fast' allows expansion")]);
    const sts = manifests.find((m) => m.kind === 'StatefulSet');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('10Gi');
    const claims = manifests.filter((m) => m.kind === 'PersistentVolumeClaim');
    expect(claims.map((c) => c.metadata.name)).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);
    expect(claims[0]).toEqual({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'data-db-0', namespace: 'ns', labels: { 'app.kubernetes.io/instance': 'db' },
        annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' },
      },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '20Gi' } } },
    });
    // everything else is what the same props would give without the growth
    const same = (ms: any[]) => ms.filter((m) => m.kind !== 'PersistentVolumeClaim' && m.kind !== 'StatefulSet');
    expect(same(manifests)).toEqual(same(read(dir)));
  });

  test('carried claims stay: the next synth writes the same bytes, a scale-up adds its claim, a shrink is refused', () => {
    const dir = deployed(db());
    deploy(dir, db({ size: 20 }));
    const written = fs.readFileSync(path.join(dir, 'test.k8s.yaml'), 'utf-8');
    appOf(dir, db({ size: 20 })).synth();
    expect(fs.readFileSync(path.join(dir, 'test.k8s.yaml'), 'utf-8')).toBe(written);
    const up = next(dir, db({ size: 20, replicas: 4 })).manifests.filter((m) => m.kind === 'PersistentVolumeClaim');
    expect(up.map((c) => `${c.metadata.name} ${c.spec.resources.requests.storage}`)).toEqual(['data-db-0 20Gi', 'data-db-1 20Gi', 'data-db-2 20Gi', 'data-db-3 20Gi']);
    const down = next(dir, db({ size: 20, replicas: 2 })).manifests.filter((m) => m.kind === 'PersistentVolumeClaim');
    expect(down.map((c) => c.metadata.name)).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);
    expect(refusal(dir, db({ size: 15 }))).toContain(
      "refuses to change PersistentVolumeClaim ns/data-db-0 spec.resources.requests.storage from '20Gi' to '15Gi': a claim never shrinks");
  });

  test('an increase on a static NFS pool is refused', () => {
    const onPool = (size: number): Build => (chart) => {
      const pool = new NfsPersistentVolumePool(chart, 'pool', { server: 'nfs.local', basePath: '/exports', volumes: 2, capacity: Size.gibibytes(20) });
      new StatefulDatabase(chart, 'db', { engine, replicas: 2, storage: { pool, size: Size.gibibytes(size) } });
    };
    expect(refusal(deployed(onPool(10)), onPool(20))).toContain(
      "from '10Gi' to '20Gi': the claims bind statically provisioned volumes (a pool), which no resizer expands");
  });
});

describe('StorageClasses and PersistentVolumes', () => {
  const dir = deployed(db());

  test.each<[string, Shape, string]>([
    ['provisioner', { provisioner: 'pd.csi.storage.gke.io' }, "provisioner from 'ebs.csi.aws.com' to 'pd.csi.storage.gke.io'"],
    ['reclaimPolicy', { reclaim: 'Delete' }, "reclaimPolicy from 'Retain' to 'Delete'"],
    ['volumeBindingMode', { binding: 'Immediate' }, "volumeBindingMode from 'WaitForFirstConsumer' to 'Immediate'"],
  ])('a class\'s %s is immutable', (_, shape, change) => {
    const message = refusal(dir, db(shape));
    expect(message).toContain(`StorageClass 'test/fast': refuses to change StorageClass fast ${change}: the API server refuses it (422`);
    expect(message).toContain("list it in ChangeGuard.attach(app, { recreate: ['StorageClass/fast'] }), run `kubectl delete storageclass fast` right before the apply, then apply.");
  });

  test('listed in recreate, the class may change, with the delete as a manual step', () => {
    const app = appOf(dir, db({ provisioner: 'pd.csi.storage.gke.io' }), 'ns', { recreate: ['StorageClass/fast'] });
    app.synthYaml();
    const findings = ChangeGuard.of(app)!.findings;
    expect(findings.map((f) => f.split(' from ')[0])).toEqual(["StorageClass 'test/fast': changes StorageClass fast provisioner", "StorageClass 'test/fast': changes StorageClass fast parameters"]);
    for (const f of findings) expect(f).toMatch(/Before the apply: run `kubectl delete storageclass fast` right before the apply, then apply\.$/);
  });

  test('allowVolumeExpansion may change', () => {
    expect(next(dir, db({ expandable: false })).findings).toEqual([]);
  });

  // an object of the app's own: the guard compares every object of the app it is attached to
  const nfs = (server: string, reclaim = 'Retain'): Build => (chart) => {
    new ApiObject(chart, 'pv', {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'www-0' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], nfs: { server, path: '/exports/www-0' }, persistentVolumeReclaimPolicy: reclaim },
    });
  };

  test('an NFS volume\'s server is immutable', () => {
    expect(refusal(deployed(nfs('10.0.0.1')), nfs('10.0.0.2'))).toContain(
      `PersistentVolume 'test/pv': refuses to change PersistentVolume www-0 spec.nfs from {"path":"/exports/www-0","server":"10.0.0.1"} to {"path":"/exports/www-0","server":"10.0.0.2"}: the API server refuses it (422`);
  });

  test('a volume\'s switch to Delete needs the acknowledgement', () => {
    const pv = deployed(nfs('10.0.0.1'));
    expect(refusal(pv, nfs('10.0.0.1', 'Delete'))).toContain(
      "spec.persistentVolumeReclaimPolicy from 'Retain' to 'Delete': the volume and its data are then destroyed when its claim is deleted. Fix: keep 'Retain', or, if that is intended, say so: ChangeGuard.attach(app, { dataLossAcknowledged: ['PersistentVolume/www-0'] }).");
    const app = appOf(pv, nfs('10.0.0.1', 'Delete'), 'ns', { dataLossAcknowledged: ['PersistentVolume/www-0'] });
    expect(() => app.synthYaml()).not.toThrow();
  });
});

describe('quorum membership', () => {
  test('ZooKeeper: grows by any number (joiners are added by the quorum one at a time); what stays must be a majority', () => {
    const dir = deployed(zk(3));
    expect(refusal(dir, zk(5))).toBe('');
    expect(refusal(dir, zk(4))).toBe('');
    expect(refusal(dir, zk(2))).toBe('');
    expect(refusal(dir, zk(0))).toBe('');
    const five = deployed(zk(5));
    expect(refusal(five, zk(3))).toBe('');
    expect(refusal(five, zk(2))).toBe(
      `${STS} spec.replicas from 5 to 2: the members that stay (2 of 5) are not a majority of the ensemble they leave: ` +
      'a member that fails mid-change takes the quorum with it, and the rest stop serving. ' +
      'Fix: change replicas in steps: 5 → 3 → 2; after each apply wait until every member is Ready (`kubectl -n ns rollout status statefulset db`) before the next.');
    expect(refusal(dir, zk(1))).toBe(
      `${STS} spec.replicas from 3 to 1: a ZooKeeper ensemble of 2 members cannot drop to 1 by itself: the member that stays is not a majority, so no leader is left to remove the one that goes. ` +
      'Fix: keep at least 2 members, or first remove the member with `reconfig -remove` as a superuser (docs/engines.md, ZooKeeper), then change replicas.');
  });

  test('Galera: the members that stay must be a majority of the old ones; joiners may come in any number', () => {
    const dir = deployed(galera(5));
    expect(refusal(dir, galera(2))).toContain(
      `${STS} spec.replicas from 5 to 2: the members that stay (2 of 5) are not a majority of the cluster they leave`);
    expect(refusal(dir, galera(2))).toContain('Fix: change replicas in steps: 5 → 3 → 2;');
    expect(refusal(dir, galera(3))).toBe('');
    expect(refusal(dir, galera(9))).toBe('');
  });

  test('engines without a quorum scale freely', () => {
    expect(refusal(deployed(db({ replicas: 1 })), db({ replicas: 7 }))).toBe('');
  });
});

describe('engine versions', () => {
  const pg = (version: PostgresVersion, changeApprovals?: ChangeApprovals): Build => (chart) => {
    const secret = kplus.Secret.fromSecretName(chart, 'creds', 'pg-credentials');
    new StatefulDatabase(chart, 'db', { engine: DatabaseEngine.postgresql({ version }), credentials: { secret }, changeApprovals });
  };

  test('a PostgreSQL major upgrade needs the upgrade prop', () => {
    const dir = deployed(pg(PostgresVersion.VER_16_6));
    expect(refusal(dir, pg(PostgresVersion.VER_17_2))).toBe(
      `${STS} spec.template.spec.containers[main].image from 'postgres:16.6' to 'postgres:17.2': ` +
      'PostgreSQL 17 does not start on a data directory of PostgreSQL 16 ("database files are incompatible with server"): every member would crash-loop on its old data. ' +
      "Fix: keep 'postgres:16.6', or, once the data is migrated (pg_upgrade, or dump and restore), set changeApprovals: { majorVersionUpgrade: true } on the database.");
    expect(refusal(dir, pg(PostgresVersion.VER_17_2, { majorVersionUpgrade: true }))).toBe('');
    expect(refusal(dir, pg(PostgresVersion.of('16.8')))).toBe('');
  });

  test('a new image of a Patroni set is allowed, with a note that the primary moves and how to choose when', () => {
    const patroni = (image: string): Build => (chart) => {
      const secret = kplus.Secret.fromSecretName(chart, 'creds', 'pg-credentials');
      new StatefulDatabase(chart, 'db', { engine: DatabaseEngine.postgresql({ patroni: { image } }), credentials: { secret } });
    };
    const dir = deployed(patroni('registry.example.com/pg-patroni:18.4-4.1.5'));
    expect(next(dir, patroni('registry.example.com/pg-patroni:18.4-4.1.5')).findings).toEqual([]);
    expect(next(dir, patroni('registry.example.com/pg-patroni:18.5-4.1.5')).findings).toEqual([
      "StatefulDatabase 'test/db': changes StatefulSet ns/db spec.template.spec.containers[main].image from 'registry.example.com/pg-patroni:18.4-4.1.5' " +
      "to 'registry.example.com/pg-patroni:18.5-4.1.5': the rolling update restarts every member, the primary among them: Patroni then moves the primary to a replica, " +
      'and writes pause for a few seconds. Before the apply: to choose when the primary moves, run `kubectl -n ns exec db-0 -- patronictl switchover --force` after the ' +
      'replicas are updated, or before the apply; afterwards `kubectl -n ns exec db-0 -- patronictl list` shows one Leader and streaming replicas.',
    ]);
  });

  test('MariaDB 10.11 to 11.4 is a new release series', () => {
    const mariadb = (version: MariaDbVersion): Build => (chart) => {
      new StatefulDatabase(chart, 'db', { engine: DatabaseEngine.custom({ image: version.image, ports: [{ name: 'mysql', port: 3306 }], runAsUser: 999 }) });
    };
    expect(refusal(deployed(mariadb(MariaDbVersion.VER_10_11_10)), mariadb(MariaDbVersion.VER_11_4_4))).toContain(
      "from 'mariadb:10.11.10' to 'mariadb:11.4.4': the mariadb 11.4 server upgrades the data directory of 10.11 in place on its first start");
  });
});

describe('backups', () => {
  const repository = { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/prod/pg' };
  /** A PostgreSQL set keeping `retain` full backups (the default without it; none with `off`). */
  const pg = (retain: number | 'default' | 'off', changeApprovals?: ChangeApprovals, path = repository.path, schedule = '30 2 * * *'): Build => (chart) => {
    const secret = kplus.Secret.fromSecretName(chart, 'creds', 'pg-credentials');
    const backup = retain === 'off' ? undefined : {
      image: 'registry.example.com/postgres-pgbackrest:18.6-2.60.0', repository: { ...repository, path }, schedule,
      retainFullBackups: retain === 'default' ? undefined : retain,
    };
    new StatefulDatabase(chart, 'db', { engine: DatabaseEngine.postgresql({ backup }), credentials: { secret }, changeApprovals });
  };
  const ANNOTATION = 'cdk8s-stateful.dev/retain-full-backups';
  const WHERE = { 'cdk8s-stateful.dev/backup-repository': 's3://s3.example.com/backups/prod/pg', 'cdk8s-stateful.dev/backup-schedule': '30 2 * * *' };
  const setOf = (manifests: any[]) => manifests.find((m) => m.kind === 'StatefulSet');

  test('the StatefulSet states how many full backups are kept, where the guard reads it; without backups it says nothing', () => {
    const dir = outdir();
    expect(setOf(deploy(dir, pg(7))).metadata.annotations).toEqual({ ...WHERE, [ANNOTATION]: '7' });
    expect(setOf(next(dir, pg('default', { backupReduction: true })).manifests).metadata.annotations).toEqual({ ...WHERE, [ANNOTATION]: '2' });
    expect(setOf(next(dir, pg('off', { backupReduction: true })).manifests).metadata.annotations).toBeUndefined();
  });

  test('turning backups off is refused unless approved', () => {
    const dir = deployed(pg(7));
    expect(refusal(dir, pg('off'))).toBe(
      `${STS} backup (WAL archiving, scheduled full backups) from 'on' to 'off': from the apply on, the server archives no WAL and no full backup is taken: ` +
      'nothing written after the apply can be restored, and point-in-time recovery ends at the apply. ' +
      'Fix: keep backup, or, if ending backups is intended, set changeApprovals: { backupReduction: true } on the database.');
    expect(next(dir, pg('off', { backupReduction: true })).findings).toEqual([
      "StatefulDatabase 'test/db': changes StatefulSet ns/db backup (WAL archiving, scheduled full backups) from 'on' to 'off': from the apply on, the server archives no WAL " +
      'and no full backup is taken: nothing written after the apply can be restored, and point-in-time recovery ends at the apply. Before the apply: end of backups ' +
      'acknowledged (changeApprovals.backupReduction): the repository keeps the backups it holds, no longer expired; delete them yourself once they are not needed.',
    ]);
  });

  test('keeping fewer full backups is refused unless approved, the default included', () => {
    const dir = deployed(pg(7));
    expect(refusal(dir, pg(3))).toBe(
      `${STS} backup.retainFullBackups from 7 to 3: after the next full backup, pgBackRest expires all but the newest 3 and the WAL older than the oldest one kept: ` +
      'the restore points before it no longer exist, and point-in-time recovery reaches back 3 full backups instead of 7. ' +
      'Fix: keep 7, or, if the shorter window is intended, set changeApprovals: { backupReduction: true } on the database.');
    expect(refusal(dir, pg('default'))).toContain('backup.retainFullBackups from 7 to 2:');
    expect(next(dir, pg(3, { backupReduction: true })).findings).toEqual([
      "StatefulDatabase 'test/db': changes StatefulSet ns/db backup.retainFullBackups from 7 to 3: after the next full backup, pgBackRest expires all but the newest 3 " +
      'and the WAL older than the oldest one kept: the restore points before it no longer exist, and point-in-time recovery reaches back 3 full backups instead of 7. ' +
      'Before the apply: shorter window acknowledged (changeApprovals.backupReduction): copy the repository elsewhere before the next full backup if its older restore points are still needed.',
    ]);
  });

  test('moving the backups to another repository is refused unless approved: the new one starts empty', () => {
    const dir = deployed(pg(7));
    expect(refusal(dir, pg(7, undefined, '/prod/pg-2'))).toBe(
      `${STS} backup.repository from 's3://s3.example.com/backups/prod/pg' to 's3://s3.example.com/backups/prod/pg-2': the new repository holds no backup: ` +
      'until its first full backup completes nothing written is restorable from it, and point-in-time recovery through it reaches back only to that backup; ' +
      'the old repository keeps what it holds, but this set no longer archives to it or expires it. ' +
      "Fix: keep 's3://s3.example.com/backups/prod/pg', or, if the move is intended, set changeApprovals: { backupReduction: true } on the database.");
    expect(next(dir, pg(7, { backupReduction: true }, '/prod/pg-2')).findings).toEqual([expect.stringContaining('Before the apply: move acknowledged (changeApprovals.backupReduction): take a full backup into the new repository')]);
    // the same repository passes
    expect(refusal(dir, pg(7))).toBe('');
  });

  test('full backups scheduled more often, as many kept, is refused unless approved: the window shrinks', () => {
    const dir = deployed(pg(7));
    const path = repository.path;
    expect(refusal(dir, pg(7, undefined, path, '0 */6 * * *'))).toBe(
      `${STS} backup.schedule from '30 2 * * *' to '0 */6 * * *': full backups come more often while as many are kept: after the next ones, pgBackRest expires ` +
      'the older backups and their WAL sooner, and point-in-time recovery reaches back at least 1.5 days instead of 6 days. ' +
      "Fix: keep '30 2 * * *', or keep more full backups (backup.retainFullBackups) so the window stays, or, if the shorter window is intended, set changeApprovals: { backupReduction: true } on the database.");
    expect(next(dir, pg(7, { backupReduction: true }, path, '0 */6 * * *')).findings).toEqual([expect.stringContaining('Before the apply: shorter window acknowledged')]);
    // as often at another hour, less often, or more often with enough kept: the window holds
    expect(refusal(dir, pg(7, undefined, path, '0 4 * * *'))).toBe('');
    expect(refusal(dir, pg(7, undefined, path, '30 2 * * 0'))).toBe('');
    expect(refusal(dir, pg(30, undefined, path, '0 */6 * * *'))).toBe('');
  });

  test('turning backups on, keeping more full backups, or the same, passes silently', () => {
    expect(next(deployed(pg('off')), pg(2)).findings).toEqual([]);
    expect(next(deployed(pg('default')), pg(3)).findings).toEqual([]);
    expect(next(deployed(pg(3)), pg(30)).findings).toEqual([]);
    expect(next(deployed(pg(3)), pg(3)).findings).toEqual([]);
    expect(next(deployed(pg('default')), pg(2)).findings).toEqual([]);
  });
});

describe('switching to Delete', () => {
  test('claim retention Delete on a running set needs the acknowledgement', () => {
    const dir = deployed(db());
    expect(refusal(dir, db({ whenScaled: ClaimRetention.DELETE }))).toBe(
      `${STS} spec.persistentVolumeClaimRetentionPolicy.whenScaled from 'Retain' to 'Delete': the StatefulSet controller will then delete the claims ` +
      'of removed ordinals on scale-down, and with a Delete reclaim policy the volumes and their data. ' +
      'Fix: keep Retain, or, if losing those claims is intended, say so: set changeApprovals: { claimDeletion: true } on the database.');
    expect(refusal(dir, db({ whenScaled: ClaimRetention.DELETE, changeApprovals: { claimDeletion: true } }))).toBe('');
  });

  test('a refusal is the library\'s StatefulConfigError, naming the construct', () => {
    const dir = deployed(db());
    let error: unknown;
    try {
      appOf(dir, db({ headless: 'peers' })).synthYaml();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StatefulConfigError);
    expect((error as StatefulConfigError).constructPath).toBe('test/db');
  });

  test('several refusals: the first in full, the others named', () => {
    expect(refusal(deployed(db()), db({ headless: 'peers', whenScaled: ClaimRetention.DELETE }))).toMatch(
      /spec\.serviceName from .* \(1 more refused: spec\.persistentVolumeClaimRetentionPolicy\.whenScaled of StatefulDatabase 'test\/db'\)$/);
  });
});

describe('the YAML reader', () => {
  const dist = path.join(__dirname, '..', 'dist');
  const docs = fs.readdirSync(dist).flatMap((f) => splitDocuments(fs.readFileSync(path.join(dist, f), 'utf-8')));

  test('equals a full YAML 1.1 parse on every document of dist/, and reads most of them itself', () => {
    const fast = docs.map(fastParse);
    fast.forEach((d, i) => {
      if (d !== FALLBACK) expect(d).toEqual(fullParse(docs[i]));
    });
    expect(fast.filter((d) => d !== FALLBACK).length).toBeGreaterThan(docs.length * 0.8);
  });

  test('equals a full parse on random documents written the way cdk8s writes them', () => {
    const scalar = fc.oneof(fc.string(), fc.constantFrom('yes', 'no', 'on', '0755', '1:20', '10.0.0.1', '2026-01-01', '-U', '~', 'null', '1e3', '.5', "it's", '"q"', 'a: b', 'x #y'),
      fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.string({ minLength: 1 }), tie('node'), { maxKeys: 3 })),
    })).node;
    const { Yaml } = require('cdk8s');
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1 }), value, { minKeys: 1, maxKeys: 4 }), (obj) => {
      const text = Yaml.stringify(obj);
      const fast = fastParse(text);
      return fast === FALLBACK || isDeepStrictEqual(fast, fullParse(text));
    }), { numRuns: 500 });
  });

  test('a baseline of the examples reads every guarded object; of a pod template, the names, images and commands of the containers and init containers', () => {
    const objects = loadBaseline(dist);
    const full = loadBaseline(dist, 'all');
    for (const [key, o] of objects) {
      const f = full.get(key);
      if (o.kind !== 'StatefulSet') {
        expect(o).toEqual(f);
        continue;
      }
      expect({ ...o, spec: { ...o.spec, template: undefined } }).toEqual({ ...f, spec: { ...f.spec, template: undefined } });
      const brief = (list: any[] | undefined) => (list ?? []).map((c: any) => ({ name: c.name, image: c.image, ...(c.command ? { command: c.command } : {}) }));
      expect(o.spec.template).toEqual({ spec: { containers: brief(f.spec.template.spec.containers), initContainers: brief(f.spec.template.spec.initContainers) } });
    }
    expect([...objects.keys()].map((k) => k.split('/')[0]).sort().filter((k, i, a) => a.indexOf(k) === i)).toEqual(['PersistentVolume', 'StatefulSet', 'StorageClass']);
  });
});
