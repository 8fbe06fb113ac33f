import { IConstruct } from 'constructs';
import type { ApiServerEgress, ClusterDns } from '../../network/connections';
import { PoolClaims, IPersistentVolumePool } from '../../storage/nfs-pool';
import { DatabaseEngine } from '../engine';
import { ApiRule, EngineBinding } from '../engine-definition';
import { HealthProbe } from '../probe';
import { ResolvedResources } from './container-resources';

/*
 * What a StatefulDatabase is made of once its props are checked and defaulted: plain values, no
 * Kubernetes types. The resolve-*.ts functions produce them (and are the only ones that throw);
 * render-database.ts turns them into API objects. Internal: not exported from the package.
 */

/** A Service port, resolved. */
export interface ResolvedPort {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number;
  readonly protocol: string;
}

/** Who the database is and how it is named: everything the other resolvers build on. */
export interface DatabaseIdentity {
  readonly scope: IConstruct;
  readonly name: string;
  readonly replicas: number;
  readonly startOrdinal: number;
  readonly namespaceName: string;
  readonly engine: DatabaseEngine;
  /** The registry the engine's images are pulled from instead of their own. */
  readonly registry?: string;
  /** The labels that select the pods. */
  readonly selectorLabels: { [key: string]: string };
  /** The labels of the pods and the StatefulSet: the selector's, the standard ones and the user's. */
  readonly podLabels: { [key: string]: string };
  readonly podAnnotations?: { [key: string]: string };
  readonly headlessServiceName: string;
  readonly clusterDomain: string;
  readonly peerAddresses: string[];
  /** Every port, on the headless Service. */
  readonly servicePorts: ResolvedPort[];
  /** The client (non-peer) ports. */
  readonly clientPorts: ResolvedPort[];
}

/** A claim template. */
export interface ResolvedClaim {
  readonly name: string;
  readonly mountPath: string;
  /** The request, as a quantity (`10Gi`). */
  readonly size: string;
  readonly accessModes: string[];
  readonly storageClassName?: string;
  /** The pool's labels the claim selects, for a pool's claims. */
  readonly selector?: { [key: string]: string };
}

/** The claim templates, and the claims to register on pools. */
export interface ResolvedClaims {
  readonly claims: ResolvedClaim[];
  readonly poolClaims: Array<{ pool: IPersistentVolumePool; claims: PoolClaims }>;
}

/** A pod volume: an `emptyDir` (on disk or in memory), the scripts ConfigMap or the credentials Secret. */
export interface ResolvedVolume {
  readonly name: string;
  readonly emptyDir?: { readonly sizeLimit?: string; readonly memory?: boolean };
  readonly configMap?: string;
  readonly secret?: string;
}

/** A volume mount of a container. */
export interface ResolvedMount {
  readonly volume: string;
  readonly path: string;
  readonly readOnly?: boolean;
  readonly subPath?: string;
}

/** An environment variable: a value, or a reference (`valueFrom`, as cdk8s-plus's EnvValue gives it). */
export interface ResolvedEnv {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: unknown;
}

/** A container of the pod, init or main. */
export interface ResolvedContainer {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: ResolvedEnv[];
  readonly mounts: ResolvedMount[];
  readonly resources: ResolvedResources;
  /** The database container's ports. */
  readonly ports?: Array<{ name: string; port: number }>;
  readonly readinessProbe?: HealthProbe;
  readonly livenessProbe?: HealthProbe;
  readonly startupProbe?: HealthProbe;
  /** Run by the kubelet in the container before it is stopped. */
  readonly preStop?: string[];
}

/** The containers and the volumes they share. */
export interface ResolvedContainers {
  readonly volumes: ResolvedVolume[];
  readonly initContainers: ResolvedContainer[];
  readonly main: ResolvedContainer;
  /** The engine's containers beside the database container. */
  readonly sidecars: ResolvedContainer[];
  readonly scriptsConfigMap?: { readonly name: string; readonly files: { [name: string]: string } };
}

/** A toleration of the pods. */
export interface ResolvedToleration {
  readonly key?: string;
  readonly operator: string;
  readonly value?: string;
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

/** The pod's placement and identity. */
export interface ResolvedPod {
  readonly terminationGracePeriodSeconds: number;
  readonly antiAffinity: 'preferred' | 'required' | 'none';
  readonly nodeSelector?: { [key: string]: string };
  readonly tolerations?: ResolvedToleration[];
  readonly priorityClassName?: string;
  readonly serviceAccountName?: string;
  /** Whether the account's token is mounted: only for an engine that uses the Kubernetes API. */
  readonly automountToken: boolean;
  readonly imagePullSecrets?: string[];
}

/** How the StatefulSet runs its pods and claims. */
export interface ResolvedWorkload {
  readonly podManagementPolicy: string;
  readonly updateStrategy: { readonly type: string; readonly partition?: number };
  readonly claimRetention: { readonly whenDeleted: string; readonly whenScaled: string };
  /** A ServiceAccount to create, by name. */
  readonly createServiceAccount?: string;
  /** The Role the engine's API access needs, and the account its RoleBinding names (created, or the user's). */
  readonly role?: { readonly name: string; readonly rules: ApiRule[]; readonly subject: string };
}

/** The client and read Services. */
export interface ResolvedClientService {
  readonly type: string;
  readonly annotations?: { [key: string]: string };
  readonly ports: ResolvedPort[];
  readonly selector: { [key: string]: string };
  /** The read Service, for a single-writer engine. */
  readonly readServiceName?: string;
  /** The read Service's selector: every member, or the replicas by their role label. */
  readonly readSelector?: { [key: string]: string };
}

/** The database's Services, disruption budget and policy. */
export interface ResolvedServices {
  readonly clientService?: ResolvedClientService;
  readonly budget?: { readonly maxUnavailable: number };
  /** The DNS (and the API server, for an engine that uses it) the NetworkPolicy lets the members reach. */
  readonly networkPolicy?: { readonly dns: ClusterDns; readonly apiServer?: ApiServerEgress; readonly egress?: ApiServerEgress[] };
}

/** Everything a StatefulDatabase renders, checked and defaulted. */
export interface DatabaseSpec {
  readonly identity: DatabaseIdentity;
  readonly claims: ResolvedClaims;
  readonly binding: EngineBinding;
  readonly warnings: string[];
  readonly containers: ResolvedContainers;
  readonly workload: ResolvedWorkload;
  readonly pod: ResolvedPod;
  readonly services: ResolvedServices;
}
