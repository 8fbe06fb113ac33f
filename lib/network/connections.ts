import { ApiObject, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { kube, plain } from '../render';
import { PropValidator } from '../prop-validator';
import { IPodSelectorLike, selectedPods } from './peer';

/** A port the policy opens, by number. */
export interface PolicyPort {
  /** The container port. */
  readonly port: number;
  /**
   * @default 'TCP'
   */
  readonly protocol?: string;
}

/** Props for {@link Connections}. */
export interface ConnectionsProps {
  /** The NetworkPolicy's name. */
  readonly name: string;
  /** The labels of the members (one label, as Polaris expects of a policy's pod selector). */
  readonly selector: { [key: string]: string };
  /** Ports clients may reach. */
  readonly clientPorts: PolicyPort[];
  /** Every port members use among themselves (client and replication ports). */
  readonly peerPorts: PolicyPort[];
  /**
   * Where members resolve names: the DNS pods by namespace and pod labels on a port, or an
   * address range (a node-local DNS cache).
   * @default - pods `k8s-app: kube-dns` in namespace `kube-system`, port 53
   */
  readonly dns?: ClusterDns;
  /**
   * Lets the members reach the Kubernetes API server (an engine that keeps its leader lock there).
   * @default - no egress to the API server
   */
  readonly apiServer?: ApiServerEgress;
  /**
   * More places the members reach (an engine's backup store), by address and TCP port.
   * @default - none
   */
  readonly egress?: ApiServerEgress[];
}

/** The Kubernetes API server as a NetworkPolicy egress target: its endpoints' addresses and ports. */
export interface ApiServerEgress {
  /** Address ranges of the API server's endpoints. */
  readonly cidrs: string[];
  /** Their ports (TCP). */
  readonly ports: number[];
}

/** The cluster DNS as a NetworkPolicy egress target. */
export interface ClusterDns {
  /** Labels of the DNS pods' namespace. */
  readonly namespaceLabels: { [key: string]: string };
  /** Labels of the DNS pods. */
  readonly podLabels: { [key: string]: string };
  /** The port, opened for UDP and TCP. */
  readonly port: number;
  /**
   * An address range instead of the pods.
   * @default - the pods by label
   */
  readonly cidr?: string;
}

const DEFAULT_DNS: ClusterDns = { namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' }, podLabels: { 'k8s-app': 'kube-dns' }, port: 53 };

/**
 * A label selector as the API server stores it: an empty `matchLabels` or `matchExpressions` is
 * dropped (`{ matchLabels: {} }` becomes `{}`, which selects everything too). Writing the stored
 * form keeps a server-side apply idempotent: no diff, no generation bump, no OutOfSync.
 */
function normalSelector(selector: k8s.LabelSelector | undefined): k8s.LabelSelector | undefined {
  if (selector === undefined) return undefined;
  const { matchLabels, matchExpressions } = selector;
  return {
    matchLabels: matchLabels && Object.keys(matchLabels).length > 0 ? matchLabels : undefined,
    matchExpressions: matchExpressions && matchExpressions.length > 0 ? matchExpressions : undefined,
  };
}

/**
 * The network isolation of a stateful service: a NetworkPolicy under which members talk to each
 * other on every port, clients reach only the client ports, and nothing else gets in. Members may
 * reach each other and the cluster DNS, nothing else. Open it to clients with `allowFrom`.
 *
 * A NetworkPolicy only takes effect with a network plugin that enforces it (Calico, Cilium, ...).
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
 */
export class Connections extends Construct {
  /** The NetworkPolicy; also reachable as `ApiObject.of(this)`. */
  public readonly resource: ApiObject;
  private readonly clients: k8s.NetworkPolicyPeer[] = [];
  private readonly check: PropValidator;

  constructor(scope: Construct, id: string, private readonly props: ConnectionsProps) {
    super(scope, id);
    this.check = new PropValidator(this, 'Connections');
    const members = { podSelector: { matchLabels: props.selector } };
    const dns = props.dns ?? DEFAULT_DNS;
    const ports = (list: PolicyPort[]) => list.map((p) => ({ port: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol ?? 'TCP' }));
    this.resource = kube(k8s.KubeNetworkPolicy, this, 'Resource', {
      metadata: { name: props.name },
      spec: {
        podSelector: { matchLabels: props.selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: Lazy.any({
          produce: () => plain([
            { from: [members], ports: ports(props.peerPorts) },
            ...(this.clients.length > 0 ? [{ from: [...this.clients], ports: ports(props.clientPorts) }] : []),
          ]),
        }),
        egress: [
          { to: [members], ports: ports(props.peerPorts) },
          {
            // name resolution: the cluster DNS (kube-system's kube-dns pods unless told otherwise)
            to: [dns.cidr !== undefined ? { ipBlock: { cidr: dns.cidr } } : {
              namespaceSelector: normalSelector({ matchLabels: dns.namespaceLabels }),
              podSelector: normalSelector({ matchLabels: dns.podLabels }),
            }],
            ports: [{ port: k8s.IntOrString.fromNumber(dns.port), protocol: 'UDP' }, { port: k8s.IntOrString.fromNumber(dns.port), protocol: 'TCP' }],
          },
          // the leader lock of an engine that keeps it in the API server
          ...(props.apiServer ? [{
            to: props.apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
            ports: ports(props.apiServer.ports.map((port) => ({ port }))),
          }] : []),
          // what the engine reaches outside the set (a backup store)
          ...(props.egress ?? []).map((e) => ({ to: e.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: ports(e.ports.map((port) => ({ port }))) })),
        ],
      },
    });
  }

  /**
   * Lets a workload reach the client ports: a Deployment, StatefulSet, Pod, `Pods.select(...)`
   * (any {@link IPodSelectorLike}) of any cdk8s-plus line, or another StatefulDatabase. Its pods
   * are selected as it selects them, in the namespaces it names.
   *
   * ```ts
   * db.connections.allowFrom(new kplus.Deployment(chart, 'api', { ... }));
   * ```
   *
   * @param workload an {@link IPodSelectorLike}; typed `IConstruct` so that every cdk8s-plus
   *   line's objects are accepted in every language (Java, C# and Go match interfaces by name or
   *   exact signature). Anything else fails at synth.
   */
  public allowFrom(workload: IConstruct): void {
    const { podSelector, namespaceNames, namespaceSelector } = selectedPods(this.check, 'allowFrom', workload);
    if (namespaceNames.length === 0) {
      this.clients.push({ podSelector: normalSelector(podSelector), namespaceSelector: normalSelector(namespaceSelector) });
    }
    for (const name of namespaceNames) {
      this.clients.push({ podSelector: normalSelector(podSelector), namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
    }
  }

  /**
   * Lets pods with these labels reach the client ports: in the same namespace, or in the
   * namespaces with `namespaceLabels` (e.g. `{ 'kubernetes.io/metadata.name': 'shop' }`).
   */
  public allowFromLabels(podLabels: { [key: string]: string }, namespaceLabels?: { [key: string]: string }): void {
    if (Object.keys(podLabels).length === 0 && namespaceLabels === undefined) {
      this.check.fail('allowFromLabels got no pod labels: that would open the client ports to every pod of the namespace. Fix: give the labels of the client pods.');
    }
    this.check.labels('podLabels', podLabels);
    if (namespaceLabels) this.check.labels('namespaceLabels', namespaceLabels);
    this.clients.push({
      podSelector: normalSelector({ matchLabels: podLabels }),
      namespaceSelector: normalSelector(namespaceLabels ? { matchLabels: namespaceLabels } : undefined),
    });
  }

  /**
   * Lets clients from an address range reach the client ports, e.g. those outside the cluster
   * behind a `LoadBalancer` client Service (`'0.0.0.0/0'` for anyone, or your offices' range).
   */
  public allowFromCidr(cidr: string): void {
    this.clients.push({ ipBlock: { cidr: this.check.ipv4Cidr('allowFromCidr', cidr, "'203.0.113.0/24', or '0.0.0.0/0' for anyone") } });
  }

  /** The NetworkPolicy's name. */
  public get policyName(): string {
    return this.props.name;
  }
}
