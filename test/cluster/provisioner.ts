// The stand-in for the external (CSI) provisioners the examples' dynamic StorageClasses name
// (pd.csi.storage.gke.io for fast/slow, gluster.org/glusterfs-simple for glusterfs, and the
// suite's own default class). The test cluster runs none, so this plays one, honestly: it only
// acts on a claim once kube-controller-manager's PV controller has handed it over, the way
// external-provisioner does, and it never binds anything itself.
//
// For every PersistentVolumeClaim (all namespaces, from a watch):
//  1. it is Pending, has no spec.volumeName, and names a StorageClass that exists and whose
//     provisioner is not kubernetes.io/no-provisioner;
//  2. the PV controller has annotated it `volume.kubernetes.io/storage-provisioner: <that
//     provisioner>` (the hand-off to an external provisioner);
//  3. for a WaitForFirstConsumer class, the scheduler has annotated it
//     `volume.kubernetes.io/selected-node` (a pod that uses it was placed);
//  4. it has no selector (external-provisioner refuses claims with a selector, too).
// Then it creates PV `pvc-<claim uid>` (external-provisioner's naming), annotated
// `pv.kubernetes.io/provisioned-by: <provisioner>`, with capacity = the request, the class,
// the claim's access modes and volumeMode, the class's reclaim policy and mount options,
// claimRef {namespace, name, uid} and, for WaitForFirstConsumer, node affinity to the selected
// node's topology.kubernetes.io/zone. The source is `csi: {driver: <provisioner>}`; a provisioner
// whose name is not a valid CSI driver name (gluster.org/glusterfs-simple: not CSI, it is the
// external-storage GlusterFS provisioner) gets the volume type that provisioner creates,
// `glusterfs: {endpoints, path}`.
// The PV controller then binds claim and volume (both Bound), as it would in a real cluster.
import { request, watch, Watch, WatchEvent } from './kube';

export const PROVISIONER_ANNOTATION = 'volume.kubernetes.io/storage-provisioner';
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface Provisioned {
  readonly claim: string; // namespace/name
  readonly claimUid: string;
  readonly pv: string;
  readonly storageClassName: string;
  readonly provisioner: string;
  readonly zone?: string;
  readonly selectedNode?: string;
}

const CSI_DRIVER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class StandInProvisioner {
  /** Claim uid → what was provisioned for it. */
  public readonly provisioned = new Map<string, Provisioned>();
  /** Errors from creating volumes (asserted empty by the suite). */
  public readonly errors: string[] = [];
  private w?: Watch;
  private resync?: NodeJS.Timeout;
  private stopped = false;
  private readonly inFlight = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  /** Starts watching; resolves when the watch is in place. */
  public async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
    // like an informer's resync: a claim whose event was handled while a condition did not hold
    // yet (or whose volume could not be created) is looked at again
    this.resync = setInterval(() => {
      request('GET', '/api/v1/persistentvolumeclaims').then((r) => {
        if (!this.stopped && r.status === 200) for (const pvc of r.body.items) this.onEvent({ type: 'MODIFIED', object: pvc });
      }).catch(() => undefined);
    }, 2000);
  }

  public stop(): void {
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    this.w?.stop();
  }

  private async connect(): Promise<void> {
    // No resourceVersion: the server first replays every existing claim as ADDED, so a
    // reconnect never misses one (provisioning is idempotent per claim uid).
    this.w = watch('/api/v1/persistentvolumeclaims', (e) => this.onEvent(e), {
      onEnd: () => {
        if (!this.stopped) setTimeout(() => { if (!this.stopped) this.connect().catch((err) => this.errors.push(String(err))); }, 200);
      },
    });
    await this.w.started;
  }

  private onEvent(e: WatchEvent): void {
    if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
    const pvc = e.object;
    if (pvc.status?.phase !== 'Pending' || pvc.spec.volumeName) return;
    const uid: string = pvc.metadata.uid;
    if (this.provisioned.has(uid) || this.inFlight.has(uid)) return;
    const ann = pvc.metadata.annotations ?? {};
    if (!ann[PROVISIONER_ANNOTATION]) return; // not handed to an external provisioner (yet)
    this.inFlight.add(uid);
    // one at a time, in event order
    this.queue = this.queue.then(() => this.provision(pvc)).catch((err) => { this.errors.push(`${new Date().toISOString()} ${err}`); })
      .finally(() => this.inFlight.delete(uid));
  }

  private async provision(pvc: any): Promise<void> {
    const ns = pvc.metadata.namespace;
    const name = pvc.metadata.name;
    const className: string | undefined = pvc.spec.storageClassName;
    if (!className) return;
    const scr = await request('GET', `/apis/storage.k8s.io/v1/storageclasses/${className}`);
    if (scr.status !== 200) return;
    const sc = scr.body;
    const provisioner: string = sc.provisioner;
    if (provisioner === 'kubernetes.io/no-provisioner') return;
    if (pvc.metadata.annotations[PROVISIONER_ANNOTATION] !== provisioner) return; // another provisioner's claim
    if (pvc.spec.selector) return; // external-provisioner: "claim Selector is not supported"
    const wffc = sc.volumeBindingMode === 'WaitForFirstConsumer';
    const selectedNode: string | undefined = pvc.metadata.annotations[SELECTED_NODE_ANNOTATION];
    if (wffc && !selectedNode) return; // wait for the scheduler to pick a node
    let zone: string | undefined;
    if (wffc) {
      const node = await request('GET', `/api/v1/nodes/${selectedNode}`);
      if (node.status !== 200) throw new Error(`provisioner: selected node ${selectedNode} of ${ns}/${name}: HTTP ${node.status}`);
      zone = node.body.metadata.labels?.[ZONE_LABEL];
      if (!zone) throw new Error(`provisioner: selected node ${selectedNode} has no ${ZONE_LABEL} label`);
    }
    const pvName = `pvc-${pvc.metadata.uid}`;
    const source = CSI_DRIVER_NAME.test(provisioner) && provisioner.length <= 63
      ? { csi: { driver: provisioner, volumeHandle: `stand-in/${pvName}`, fsType: 'ext4' } }
      : { glusterfs: { endpoints: `glusterfs-dynamic-${name}`.slice(0, 63), endpointsNamespace: ns, path: `vol_${pvc.metadata.uid.replace(/-/g, '')}` } };
    const pv = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: { [PROVISIONED_BY_ANNOTATION]: provisioner },
        labels: { 'cluster-test.cdk8s-stateful/stand-in-provisioner': 'true' },
      },
      spec: {
        capacity: { storage: pvc.spec.resources.requests.storage },
        accessModes: pvc.spec.accessModes,
        volumeMode: pvc.spec.volumeMode ?? 'Filesystem',
        storageClassName: className,
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        mountOptions: sc.mountOptions,
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name, uid: pvc.metadata.uid },
        nodeAffinity: zone
          ? { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_LABEL, operator: 'In', values: [zone] }] }] } }
          : undefined,
        ...source,
      },
    };
    const r = await request('POST', '/api/v1/persistentvolumes', pv);
    if (r.status !== 201 && r.status !== 409) {
      throw new Error(`provisioner: creating ${pvName} for ${ns}/${name}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
    }
    this.provisioned.set(pvc.metadata.uid, {
      claim: `${ns}/${name}`, claimUid: pvc.metadata.uid, pv: pvName, storageClassName: className, provisioner, zone, selectedNode,
    });
  }
}
