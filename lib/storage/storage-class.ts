import { ApiObject, Size } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { kube } from '../render';
import { show } from '../errors';
import { PropValidator } from '../prop-validator';
import { ReclaimPolicy, VolumeBindingMode, makeClusterScoped } from './common';

/** A StorageClass that claims can name. */
export interface IStorageClass {
  /** The StorageClass's `metadata.name`, which claims put in `storageClassName`. */
  readonly storageClassName: string;
  /**
   * The smallest volume the provisioner creates for this class (AWS `st1`/`sc1`: 125 GiB); claims
   * on the class that request less fail synth.
   * @default - no minimum known
   */
  readonly minimumVolumeSize?: Size;
}

/** The EBS CSI driver, and the in-tree plugin it replaced. */
const EBS_PROVISIONERS = ['ebs.csi.aws.com', 'kubernetes.io/aws-ebs'];

/** EBS HDD volume types, which AWS creates from 125 GiB only. */
const EBS_HDD_TYPES = ['st1', 'sc1'];

/** The performance tier of a storage class. */
export enum StorageTier {
  /** SSD-backed disks, for data files and write-ahead logs. */
  FAST = 'fast',
  /** HDD-backed disks, for archives, backups and cold data. */
  SLOW = 'slow',
}

/** Options for a custom provisioner. */
export interface CustomProvisionerOptions {
  /** The provisioner name, e.g. `rook-ceph.rbd.csi.ceph.com`. */
  readonly provisioner: string;
  /**
   * Parameters for the fast (SSD) tier. They are provisioner-specific, and a wrong one is
   * silently ignored by the provisioner, so check them against its documentation.
   * @default {}
   */
  readonly fastParameters?: { [key: string]: string };
  /**
   * Parameters for the slow (HDD) tier.
   * @default {}
   */
  readonly slowParameters?: { [key: string]: string };
}

/**
 * A dynamic provisioner and the parameters that make its disks SSD or HDD.
 *
 * SSD/HDD parameters only mean something to their own provisioner, so each provider carries both
 * tiers' parameters and the class picks one.
 */
export class StorageProvider {
  /**
   * Google Compute Engine persistent disks through the PD CSI driver: `pd-ssd` / `pd-standard`.
   * @see https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/gce-pd-csi-driver
   */
  public static gce(): StorageProvider {
    return new StorageProvider('pd.csi.storage.gke.io', { type: 'pd-ssd' }, { type: 'pd-standard' });
  }

  /**
   * AWS EBS through the EBS CSI driver: `gp3` / `st1`, encrypted (every EBS class is, unless its
   * parameters say `encrypted: 'false'`). st1 volumes are at least 125 GiB: smaller claims on the
   * slow class fail synth.
   * @see https://github.com/kubernetes-sigs/aws-ebs-csi-driver/blob/master/docs/parameters.md
   */
  public static aws(): StorageProvider {
    return new StorageProvider('ebs.csi.aws.com', { type: 'gp3' }, { type: 'st1' });
  }

  /**
   * Azure managed disks through the Azure Disk CSI driver: `Premium_LRS` / `Standard_LRS`.
   * @see https://learn.microsoft.com/azure/aks/azure-csi-disk-storage-provision
   */
  public static azure(): StorageProvider {
    return new StorageProvider('disk.csi.azure.com', { skuName: 'Premium_LRS' }, { skuName: 'Standard_LRS' });
  }

  /** Any other provisioner, with the parameters of each tier. */
  public static custom(options: CustomProvisionerOptions): StorageProvider {
    return new StorageProvider(options.provisioner, options.fastParameters ?? {}, options.slowParameters ?? {});
  }

  private constructor(
    /** The provisioner name written into the StorageClass. */
    public readonly provisioner: string,
    private readonly fast: { [key: string]: string },
    private readonly slow: { [key: string]: string },
  ) {}

  /** The provisioner's parameters for a tier. */
  public parametersFor(tier: StorageTier): { [key: string]: string } {
    return { ...(tier === StorageTier.FAST ? this.fast : this.slow) };
  }
}

/** Options shared by every StorageClass construct. */
export interface StorageClassOptions {
  /**
   * The StorageClass name. Claims refer to it, so it is part of the API.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * What happens to a provisioned volume when its claim is deleted.
   * @default ReclaimPolicy.RETAIN - the disk and its data outlive the claim
   */
  readonly reclaimPolicy?: ReclaimPolicy;
  /**
   * When volumes are provisioned.
   * @default VolumeBindingMode.WAIT_FOR_FIRST_CONSUMER - in the zone of the pod that uses it
   */
  readonly volumeBindingMode?: VolumeBindingMode;
  /**
   * Whether claims can grow after creation.
   * @default true
   */
  readonly allowVolumeExpansion?: boolean;
  /**
   * Mark this class the cluster's default (`storageclass.kubernetes.io/is-default-class`).
   * @default false
   */
  readonly isDefault?: boolean;
  /**
   * Mount options for provisioned volumes, e.g. `['noatime']`.
   * @default - none
   */
  readonly mountOptions?: string[];
}

/** Props for {@link StorageClass}. */
export interface StorageClassProps extends StorageClassOptions {
  /** The provisioner, e.g. `kubernetes.io/no-provisioner` or a CSI driver name. */
  readonly provisioner: string;
  /**
   * Provisioner-specific parameters.
   * @default {}
   */
  readonly parameters?: { [key: string]: string };
}

/**
 * A Kubernetes StorageClass, cluster-scoped, with defaults that keep data.
 *
 * Prefer {@link StorageClassFast} and {@link StorageClassSlow}; use this for anything else
 * (a GlusterFS or Ceph class, `kubernetes.io/no-provisioner` for static pools).
 *
 * @see https://kubernetes.io/docs/concepts/storage/storage-classes/
 */
export class StorageClass extends Construct implements IStorageClass {
  /**
   * Refers to a StorageClass that this app does not own. The name is checked (a DNS-1123
   * subdomain) by the construct whose claims use it.
   */
  public static fromStorageClassName(storageClassName: string): IStorageClass {
    return { storageClassName };
  }

  public readonly storageClassName: string;
  public readonly minimumVolumeSize?: Size;
  /** The reclaim policy written into the class. */
  public readonly reclaimPolicy: ReclaimPolicy;
  /** The L1 object; also reachable as `ApiObject.of(this)`. */
  public readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: StorageClassProps) {
    super(scope, id);
    const check = new PropValidator(this, this.kind);
    this.storageClassName = check.dnsSubdomain('name', props.name ?? id, props.name === undefined);
    this.reclaimPolicy = props.reclaimPolicy ?? ReclaimPolicy.RETAIN;
    if (!Object.values(ReclaimPolicy).includes(this.reclaimPolicy)) {
      check.fail(`reclaimPolicy must be Retain or Delete, got ${show(this.reclaimPolicy)}. Fix: use ReclaimPolicy.RETAIN.`);
    }
    if (!props.provisioner) {
      check.fail("provisioner must be set, got ''. Fix: name the CSI driver, e.g. 'ebs.csi.aws.com'.");
    }
    const parameters = { ...(props.parameters ?? {}) };
    if (EBS_PROVISIONERS.includes(props.provisioner)) {
      // encrypted at rest by default, as the data on these disks deserves
      parameters.encrypted ??= 'true';
      if (EBS_HDD_TYPES.includes(parameters.type)) this.minimumVolumeSize = Size.gibibytes(125);
    }
    this.resource = kube(k8s.KubeStorageClass, this, 'Resource', {
      metadata: {
        name: this.storageClassName,
        annotations: props.isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : undefined,
      },
      provisioner: props.provisioner,
      parameters: Object.keys(parameters).length > 0 ? parameters : undefined,
      reclaimPolicy: this.reclaimPolicy,
      volumeBindingMode: props.volumeBindingMode ?? VolumeBindingMode.WAIT_FOR_FIRST_CONSUMER,
      allowVolumeExpansion: props.allowVolumeExpansion ?? true,
      mountOptions: props.mountOptions,
    });
    makeClusterScoped(this.resource);
  }

  /** The construct kind named in error messages. */
  protected get kind(): string {
    return 'StorageClass';
  }
}

/** Props for {@link StorageClassFast} and {@link StorageClassSlow}. */
export interface TieredStorageClassProps extends StorageClassOptions {
  /** Which cloud or driver provisions the disks. */
  readonly provider: StorageProvider;
}

/**
 * SSD-backed dynamic provisioning, named `fast` by default.
 *
 * ```ts
 * const fast = new StorageClassFast(chart, 'fast', { provider: StorageProvider.aws() });
 * ```
 */
export class StorageClassFast extends StorageClass {
  constructor(scope: Construct, id: string, props: TieredStorageClassProps) {
    super(scope, id, { ...props, provisioner: props.provider.provisioner, parameters: props.provider.parametersFor(StorageTier.FAST) });
  }

  protected get kind(): string {
    return 'StorageClassFast';
  }
}

/** HDD-backed dynamic provisioning, named `slow` by default: archives, backups, cold data. */
export class StorageClassSlow extends StorageClass {
  constructor(scope: Construct, id: string, props: TieredStorageClassProps) {
    super(scope, id, { ...props, provisioner: props.provider.provisioner, parameters: props.provider.parametersFor(StorageTier.SLOW) });
  }

  protected get kind(): string {
    return 'StorageClassSlow';
  }
}
