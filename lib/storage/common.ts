import { ApiObject } from 'cdk8s';

/**
 * How a volume can be mounted.
 * @see https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes
 */
export enum AccessMode {
  /** One node mounts the volume read-write. */
  READ_WRITE_ONCE = 'ReadWriteOnce',
  /** Many nodes mount the volume read-only. */
  READ_ONLY_MANY = 'ReadOnlyMany',
  /** Many nodes mount the volume read-write (NFS can). */
  READ_WRITE_MANY = 'ReadWriteMany',
  /** One pod mounts the volume read-write (CSI volumes only). */
  READ_WRITE_ONCE_POD = 'ReadWriteOncePod',
}

/**
 * What happens to a volume once its claim is deleted.
 * @see https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reclaiming
 */
export enum ReclaimPolicy {
  /** The volume and its data stay; an administrator decides what to do with them. */
  RETAIN = 'Retain',
  /** DATA LOSS: the volume and all its data are destroyed when the claim is deleted. */
  DELETE = 'Delete',
}

/**
 * When a dynamically provisioned volume is created and bound.
 * @see https://kubernetes.io/docs/concepts/storage/storage-classes/#volume-binding-mode
 */
export enum VolumeBindingMode {
  /** Provision as soon as the claim exists (the disk may land in another zone than the pod). */
  IMMEDIATE = 'Immediate',
  /** Provision once a pod using the claim is scheduled, in that pod's zone. */
  WAIT_FOR_FIRST_CONSUMER = 'WaitForFirstConsumer',
}

/**
 * Cluster-scoped objects (StorageClass, PersistentVolume) must not carry a namespace, but every
 * cdk8s ApiObject takes its chart's: it is dropped from the object's metadata, which renders what
 * the JSON patch `remove /metadata/namespace` would, without a patch to hold and apply to a copy
 * of every object at synth (tools/bench/README.md).
 * Internal: not exported from the package.
 */
export function makeClusterScoped(obj: ApiObject): void {
  (obj.metadata as { namespace?: string }).namespace = undefined;
}
