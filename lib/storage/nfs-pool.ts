import { ApiObject, Lazy, Size } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { kube } from '../render';
import { BindableClaim, BindableVolume, unboundClaims } from './volume-binder';
import { show } from '../errors';
import { PropValidator } from '../prop-validator';
import { AccessMode, ReclaimPolicy, makeClusterScoped } from './common';

/** A statically provisioned pool of PersistentVolumes that claims select by class and labels. */
export interface IPersistentVolumePool {
  /** The `storageClassName` of every volume in the pool; claims on the pool ask for it. */
  readonly storageClassName: string;
  /** The labels of every volume; claims on the pool select them. */
  readonly selectorLabels: { [key: string]: string };
  /** Capacity of each volume. */
  readonly capacity: Size;
  /** Access modes each volume offers. */
  readonly accessModes: AccessMode[];
  /**
   * Registers the claims of a StatefulSet's claim template on the pool, so that the pool
   * reserves volumes for them (when it reserves) and proves at synth time that each can bind.
   */
  addClaims(claims: PoolClaims): void;
}

/** The claims one claim template of one StatefulSet makes on a pool. */
export interface PoolClaims {
  /** The construct that owns the claims, named in error messages. */
  readonly owner: IConstruct;
  /** The claim template's name, e.g. `data`. */
  readonly claimTemplateName: string;
  /** The StatefulSet's name. */
  readonly statefulSetName: string;
  /** The namespace the claims are created in. */
  readonly namespaceName: string;
  /** The first ordinal. */
  readonly startOrdinal: number;
  /** How many ordinals (replicas). */
  readonly replicas: number;
  /** The storage each claim requests. */
  readonly request: Size;
  /** The access modes each claim asks for. */
  readonly accessModes: AccessMode[];
  /** The storageClassName the claims ask for. */
  readonly storageClassName: string;
  /** The claims' label selector. */
  readonly selector: { [key: string]: string };
}

/** One claim of one ordinal, as the pool sees it. */
interface PoolClaim {
  readonly template: PoolClaims;
  readonly ordinal: number;
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name`. */
  readonly key: string;
}

/** Props for {@link NfsPersistentVolumePool}. */
export interface NfsPersistentVolumePoolProps {
  /** The NFS server's host name or IP address, e.g. `192.168.205.128`. */
  readonly server: string;
  /**
   * The exported directory under which each volume gets a sub-directory of its own
   * (`<basePath>/<volume name>`), so replicas never share one data directory.
   * Each sub-directory must exist on the server and be owned by the pod's user: a non-root
   * database cannot `chown` an export with root_squash.
   * @default - required unless `paths` is given
   */
  readonly basePath?: string;
  /**
   * Explicit export paths, one volume per path. Overrides `basePath` and `volumes`.
   * @default - `volumes` sub-directories of `basePath`
   */
  readonly paths?: string[];
  /**
   * How many volumes, with `basePath`.
   * @default 3
   */
  readonly volumes?: number;
  /**
   * Capacity of each volume. NFS does not enforce it; binding compares it with each claim's request.
   * @default Size.gibibytes(10)
   */
  readonly capacity?: Size;
  /**
   * Access modes each volume offers.
   * @default [AccessMode.READ_WRITE_ONCE]
   */
  readonly accessModes?: AccessMode[];
  /**
   * NFS mount options, e.g. `['nfsvers=4.1', 'hard']`.
   * @default - none: the node's defaults
   */
  readonly mountOptions?: string[];
  /**
   * Labels on every volume, selected by the claims on the pool.
   * @default { 'stateful.cdk8s.io/pool': <name> }
   */
  readonly labels?: { [key: string]: string };
  /**
   * The `storageClassName` of the volumes. No StorageClass object is needed for static binding;
   * a dedicated class name keeps dynamic provisioners away from the claims.
   * @default - the pool's name
   */
  readonly storageClassName?: string;
  /**
   * Reclaim policy. Only `Retain` is accepted: `Recycle` (deprecated) runs `rm -rf` on the
   * volume, and `Delete` has no deleter for a static NFS volume, which ends up `Failed`.
   * @default ReclaimPolicy.RETAIN - a released volume keeps its data until an admin clears it
   */
  readonly reclaimPolicy?: ReclaimPolicy;
  /**
   * Name prefix of the volumes: `<name>-0`, `<name>-1`, ...
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Reserve volume n for ordinal n of the StatefulSets that use the pool (`spec.claimRef`), so a
   * replacement pod, or a claim recreated after deletion, always gets its own data back.
   * @default true
   * @see https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reserving-a-persistentvolume
   */
  readonly reserveVolumes?: boolean;
}

/** One volume of a pool. */
export interface PoolVolume {
  /** The PersistentVolume's name. */
  readonly name: string;
  /** The NFS export path. */
  readonly path: string;
  /** The L1 object. */
  readonly resource: ApiObject;
}

/**
 * A statically provisioned pool of NFS PersistentVolumes, one sub-directory each, that the claims
 * of a {@link StatefulDatabase} bind to. At synth time it proves that every replica's claim finds
 * a volume, and it reserves volume n for ordinal n.
 *
 * ```ts
 * const pool = new NfsPersistentVolumePool(chart, 'web-pool', {
 *   server: '192.168.205.128', basePath: '/data/k8s', volumes: 2, capacity: Size.gibibytes(1),
 *   labels: { storage: 'pv' },
 * });
 * ```
 *
 * @see https://kubernetes.io/docs/concepts/storage/volumes/#nfs
 */
export class NfsPersistentVolumePool extends Construct implements IPersistentVolumePool {
  public readonly storageClassName: string;
  public readonly selectorLabels: { [key: string]: string };
  public readonly capacity: Size;
  public readonly accessModes: AccessMode[];
  /** The volumes, in order. */
  public readonly volumes: PoolVolume[];

  private readonly claims: PoolClaims[] = [];
  private readonly reserve: boolean;
  private listed?: PoolClaim[];
  private readonly check: PropValidator;

  constructor(scope: Construct, id: string, props: NfsPersistentVolumePoolProps) {
    super(scope, id);
    const check = (this.check = new PropValidator(this, 'NfsPersistentVolumePool'));
    const name = check.dnsSubdomain('name', props.name ?? id, props.name === undefined);
    const policy: unknown = props.reclaimPolicy ?? ReclaimPolicy.RETAIN;
    if (policy === 'Recycle') {
      check.fail("reclaimPolicy 'Recycle' is refused: it runs 'rm -rf' on the volume when its claim is deleted (and is deprecated). Fix: use ReclaimPolicy.RETAIN and clean up released volumes yourself.");
    }
    if (policy === ReclaimPolicy.DELETE) {
      check.fail("reclaimPolicy 'Delete' is refused: a static NFS volume has no deleter, so the volume ends up 'Failed' when its claim is deleted. Fix: use ReclaimPolicy.RETAIN.");
    }
    if (policy !== ReclaimPolicy.RETAIN) {
      check.fail(`reclaimPolicy must be 'Retain', got ${show(policy)}. Fix: use ReclaimPolicy.RETAIN.`);
    }
    check.record('props', props);
    if (typeof props.server !== 'string' || !/^[A-Za-z0-9]([-A-Za-z0-9.:]*[A-Za-z0-9])?$/.test(props.server)) {
      check.fail(`server must be a host name or IP address, got ${show(props.server)}. Fix: e.g. server: 'nfs.example.com'.`);
    }
    this.capacity = props.capacity ?? Size.gibibytes(10);
    check.sizeKib('capacity', this.capacity);
    this.accessModes = check.accessModes(props.accessModes ?? [AccessMode.READ_WRITE_ONCE]);
    if (this.accessModes.includes(AccessMode.READ_WRITE_ONCE_POD)) {
      check.fail("accessModes includes 'ReadWriteOncePod', which only CSI volumes support, not NFS. Fix: use ReadWriteOnce or ReadWriteMany.");
    }
    this.storageClassName = check.dnsSubdomain('storageClassName', props.storageClassName ?? name);
    this.selectorLabels = check.labels('labels', props.labels ?? { 'stateful.cdk8s.io/pool': name });
    if (Object.keys(this.selectorLabels).length === 0) {
      check.fail("labels is empty: the pool's claims would select any volume of the class. Fix: give the volumes a label of their own, e.g. { storage: 'pv' }.");
    }
    this.reserve = props.reserveVolumes ?? true;

    let paths: string[];
    if (props.paths !== undefined) {
      if (!Array.isArray(props.paths)) check.fail(`paths must be a list of export paths, got ${JSON.stringify(props.paths)}. Fix: e.g. paths: ['/exports/a'].`);
      if (props.volumes !== undefined || props.basePath !== undefined) {
        check.fail('give either paths, or basePath with volumes, not both. Fix: drop paths, or drop basePath and volumes.');
      }
      paths = props.paths;
      if (paths.length === 0) check.fail('paths is empty. Fix: give at least one export path.');
    } else {
      if (props.basePath === undefined) {
        check.fail("basePath is required when paths is not given. Fix: e.g. basePath: '/data/k8s'.");
      }
      const count = check.integer('volumes', props.volumes ?? 3, 1, 10000, 'give the number of volumes, e.g. volumes: 3');
      const base = check.absolutePath('basePath', props.basePath!).replace(/\/+$/, '');
      paths = Array.from({ length: count }, (_, i) => `${base}/${name}-${i}`);
    }
    paths.forEach((p, i) => check.absolutePath(`paths[${i}]`, p));
    const seen = new Set<string>();
    const duplicate = paths.find((p) => seen.size === seen.add(p).size);
    if (duplicate) {
      check.fail(`path '${duplicate}' appears twice: two volumes would share (and corrupt) one data directory. Fix: give each volume its own path.`);
    }

    this.volumes = paths.map((path, i) => {
      const volumeName = `${name}-${i}`;
      // ids alike in every pool: ids unique per pool cost every later object a hidden class (tools/bench/README.md)
      const resource = kube(k8s.KubePersistentVolume, this, `Volume${i}`, {
        metadata: { name: volumeName, labels: this.selectorLabels },
        spec: {
          capacity: { storage: k8s.Quantity.fromString(this.capacity.asString()) },
          accessModes: this.accessModes,
          persistentVolumeReclaimPolicy: ReclaimPolicy.RETAIN,
          storageClassName: this.storageClassName,
          mountOptions: props.mountOptions,
          nfs: { server: props.server, path },
          // rendered lazily: the claims are registered after the pool is built
          claimRef: Lazy.any({ produce: (): k8s.ObjectReference | undefined => {
            const claim = this.reservation(i);
            return claim && { namespace: claim.namespace, name: claim.name };
          } }),
        },
      });
      makeClusterScoped(resource);
      return { name: volumeName, path, resource };
    });
    this.node.addValidation({ validate: () => this.validateClaims() });
  }

  public addClaims(claims: PoolClaims): void {
    this.claims.push(claims);
    this.listed = undefined;
  }

  /**
   * Every claim made on the pool: its claim templates in the order they were added, each from its
   * first ordinal up. Volume i is reserved for claim i.
   */
  private claimList(): PoolClaim[] {
    if (this.listed) return this.listed;
    this.listed = [];
    for (const template of this.claims) {
      for (let ordinal = template.startOrdinal; ordinal < template.startOrdinal + template.replicas; ordinal++) {
        const name = `${template.claimTemplateName}-${template.statefulSetName}-${ordinal}`;
        this.listed.push({ template, ordinal, namespace: template.namespaceName, name, key: `${template.namespaceName}/${name}` });
      }
    }
    return this.listed;
  }

  /** The claim volume i is reserved for, if the pool reserves. */
  private reservation(volume: number): PoolClaim | undefined {
    return this.reserve ? this.claimList()[volume] : undefined;
  }

  /** The synth-time proof: throws a StatefulConfigError when a claim would be left without a volume. */
  private validateClaims(): string[] {
    const capacityKib = this.check.sizeKib('capacity', this.capacity);
    const volumes: BindableVolume[] = this.volumes.map((v, i) => ({
      name: v.name,
      capacityKib,
      accessModes: this.accessModes,
      storageClassName: this.storageClassName,
      labels: this.selectorLabels,
      reservedFor: this.reservation(i)?.key,
    }));
    const requestKib = new Map(this.claims.map((t) => [t, this.check.sizeKib('claim size', t.request)]));
    const owners = new Map(this.claimList().map((c) => [c.key, c]));
    const claims: BindableClaim[] = this.claimList().map(({ key, template: t }) => (
      { key, requestKib: requestKib.get(t)!, accessModes: t.accessModes, storageClassName: t.storageClassName, selector: t.selector }));
    const unbound = unboundClaims(volumes, claims);
    if (unbound.length === 0) return [];
    // one message per claim template: which ordinals are left without a volume, and why
    const byTemplate = new Map<PoolClaims, { ordinals: number[]; reasons: Set<string> }>();
    for (const u of unbound) {
      const { template: c, ordinal } = owners.get(u.claim.key)!;
      const entry = byTemplate.get(c) ?? { ordinals: [], reasons: new Set<string>() };
      entry.ordinals.push(ordinal);
      entry.reasons.add(u.reason);
      byTemplate.set(c, entry);
    }
    const total = claims.length;
    const fix = total > this.volumes.length
      ? `give the pool at least ${total} volumes (it has ${this.volumes.length}), or lower the replicas`
      : `make the claims fit the pool (at most ${this.capacity.asString()}, access modes ${this.accessModes.join(', ')}, ` +
        `class '${this.storageClassName}'), or change the pool`;
    const messages = [...byTemplate.entries()].map(([c, { ordinals, reasons }]) =>
      `ordinal${ordinals.length > 1 ? 's' : ''} ${ordinals.sort((a, b) => a - b).join(', ')} ` +
      `of StatefulSet '${c.statefulSetName}' (claim template '${c.claimTemplateName}', requested ${c.request.asString()}, ` +
      `${c.accessModes.join(', ')}) would be left without a volume: ${[...reasons].join('; ')}. Fix: ${fix}.`,
    );
    // the library's own error, one line per claim template, each naming the pool
    return this.check.fail(messages.join(`\nNfsPersistentVolumePool '${this.node.path}': `));
  }
}
