import { ApiObject, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { kube } from '../render';
import { PropValidator } from '../prop-validator';

/**
 * A port of a Service, by name. Unlike cdk8s-plus's `ServicePort` the name is required (peers and
 * SRV records find ports by name) and there is no `nodePort` (a headless Service has none).
 */
export interface NamedServicePort {
  /** The port's name (a DNS-1123 label of at most 15 characters), e.g. `mysql`. */
  readonly name: string;
  /** The port the Service exposes. */
  readonly port: number;
  /**
   * The container port traffic goes to.
   * @default - same as `port`
   */
  readonly targetPort?: number;
  /**
   * The protocol, cdk8s-plus's enum.
   * @default kplus.Protocol.TCP
   */
  readonly protocol?: kplus.Protocol;
}

/** A headless Service that gives each pod of a StatefulSet a stable DNS name. */
export interface IHeadlessService {
  /** The Service's name: the StatefulSet's `serviceName`. */
  readonly serviceName: string;
  /** `<set>-<ordinal>.<service>.<namespace>.svc.<clusterDomain>`. */
  podDnsName(ordinal: number): string;
}

/** Props for {@link HeadlessService}. */
export interface HeadlessServiceProps {
  /** Labels of the pods the Service selects. */
  readonly selector: { [key: string]: string };
  /** The ports peers use. */
  readonly ports: NamedServicePort[];
  /** The StatefulSet whose pods get DNS names; pod names are `<statefulSetName>-<ordinal>`. */
  readonly statefulSetName: string;
  /**
   * The Service name.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Publish pods before they are Ready, so members find each other while bootstrapping.
   * @default true
   */
  readonly publishNotReadyAddresses?: boolean;
  /**
   * The cluster's DNS domain.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
}

/**
 * A headless Service (`clusterIP: None`): DNS answers with the pods' own addresses, and each pod
 * of the StatefulSet gets the name `<set>-<n>.<service>.<namespace>.svc.cluster.local`.
 * When the chart has no namespace, DNS names assume `default`, as kubectl does.
 *
 * @see https://kubernetes.io/docs/concepts/services-networking/service/#headless-services
 */
export class HeadlessService extends Construct implements IHeadlessService {
  public readonly serviceName: string;
  /** The namespace the DNS names are in (the chart's, or `default`). */
  public readonly namespaceName: string;
  /** The cluster DNS domain the names end in. */
  public readonly clusterDomain: string;
  /** The L1 Service; also reachable as `ApiObject.of(this)`. */
  public readonly resource: ApiObject;
  private readonly statefulSetName: string;
  private readonly check: PropValidator;

  constructor(scope: Construct, id: string, props: HeadlessServiceProps) {
    super(scope, id);
    const check = (this.check = new PropValidator(this, 'HeadlessService'));
    this.serviceName = check.dnsLabel('name', props.name ?? id, 63, props.name === undefined);
    this.statefulSetName = check.dnsLabel('statefulSetName', props.statefulSetName);
    this.clusterDomain = check.dnsSubdomain('clusterDomain', props.clusterDomain ?? 'cluster.local');
    this.namespaceName = Chart.of(this).namespace ?? 'default';
    if (Object.keys(props.selector).length === 0) {
      check.fail('selector is empty: the Service would select every pod of the namespace. Fix: give the labels of the StatefulSet\'s pods.');
    }
    check.labels('selector', props.selector);
    this.resource = kube(k8s.KubeService, this, 'Resource', {
      metadata: { name: this.serviceName },
      spec: {
        clusterIp: 'None',
        publishNotReadyAddresses: props.publishNotReadyAddresses ?? true,
        selector: props.selector,
        ports: renderServicePorts(check, props.ports),
      },
    });
  }

  /**
   * The DNS name of the pod with this ordinal. The Service does not know the set's replica count:
   * `StatefulDatabase.podDnsName` also refuses ordinals outside the set.
   */
  public podDnsName(ordinal: number): string {
    this.check.integer('ordinal', ordinal, 0, 2147483647, 'use a pod ordinal: a whole number from 0');
    return `${this.statefulSetName}-${ordinal}.${this.serviceName}.${this.namespaceName}.svc.${this.clusterDomain}`;
  }
}

/**
 * Validates and renders Service ports: at least one, unique names and numbers.
 * Internal: not exported from the package.
 */
export function renderServicePorts(check: PropValidator, ports: NamedServicePort[]): k8s.ServicePort[] {
  if (ports.length === 0) check.fail('ports is empty: a Service needs at least one port. Fix: e.g. [{ name: \'web\', port: 80 }].');
  const seen = new Set<string>();
  return ports.map((p) => {
    check.dnsLabel(`port name`, p.name, 15);
    check.port(`port '${p.name}'`, p.port);
    if (p.targetPort !== undefined) check.port(`targetPort of port '${p.name}'`, p.targetPort);
    for (const key of [`name:${p.name}`, `port:${p.port}/${p.protocol ?? kplus.Protocol.TCP}`]) {
      if (seen.has(key)) check.fail(`ports has ${key.replace(':', ' ')} twice. Fix: give each port a distinct name and number.`);
      seen.add(key);
    }
    return {
      name: p.name,
      port: p.port,
      targetPort: k8s.IntOrString.fromNumber(p.targetPort ?? p.port),
      protocol: p.protocol ?? kplus.Protocol.TCP,
    };
  });
}
