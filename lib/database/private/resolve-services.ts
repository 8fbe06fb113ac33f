import * as kplus from 'cdk8s-plus-27';
import { show } from '../../errors';
import { PropValidator } from '../../prop-validator';
import type { StatefulDatabaseProps } from '../stateful-database-props';
import type { ApiServerEgress, ClusterDns } from '../../network/connections';
import type { ApiAccess, EngineBinding, EngineEgress } from '../engine-definition';
import { DatabaseIdentity, ResolvedClientService, ResolvedServices } from './database-spec';
import { annotations } from './resolve-identity';

/** The client (and read) Service, the disruption budget and the NetworkPolicy's DNS. */
export function resolveServices(check: PropValidator, identity: DatabaseIdentity, props: StatefulDatabaseProps, binding: EngineBinding): ResolvedServices {
  const clientService = resolveClientService(check, identity, props, binding);
  const budget = resolveBudget(check, identity, props);
  const networkPolicy = (props.networkPolicy ?? true) ? {
    dns: resolveDns(check, props),
    apiServer: resolveApiServer(check, binding.apiAccess),
    egress: resolveEgress(check, binding.egress),
  } : undefined;
  return { clientService, budget, networkPolicy };
}

function resolveClientService(check: PropValidator, identity: DatabaseIdentity, props: StatefulDatabaseProps,
  binding: EngineBinding): ResolvedClientService | undefined {
  if (!(props.clientService ?? true)) {
    if (props.clientServiceType !== undefined || props.clientServiceAnnotations !== undefined) {
      check.fail('clientServiceType or clientServiceAnnotations is given, but clientService is false. Fix: drop them, or turn the client Service on.');
    }
    return undefined;
  }
  if (identity.clientPorts.length === 0) check.fail('clientService is on but every port is a peer port. Fix: mark a client port peer: false, or set clientService: false.');
  const type = props.clientServiceType ?? kplus.ServiceType.CLUSTER_IP;
  const allowed: string[] = [kplus.ServiceType.CLUSTER_IP, kplus.ServiceType.NODE_PORT, kplus.ServiceType.LOAD_BALANCER];
  if (!allowed.includes(type)) {
    check.fail(`clientServiceType must be ClusterIP, NodePort or LoadBalancer, got ${show(type)}. Fix: e.g. ServiceType.LOAD_BALANCER for clients outside the cluster.`);
  }
  return {
    type,
    annotations: props.clientServiceAnnotations === undefined ? undefined : annotations(check, 'clientServiceAnnotations', props.clientServiceAnnotations),
    ports: identity.clientPorts,
    ...selectors(identity, binding),
  };
}

/** Who the client and read Services select: every member, the fixed primary, or the members by their role label. */
function selectors({ name, selectorLabels }: DatabaseIdentity, { primaryOrdinal, roleLabel }: EngineBinding): Pick<ResolvedClientService, 'selector' | 'readServiceName' | 'readSelector'> {
  // the engine labels each pod with its role at run time: the Services follow the elected primary
  if (roleLabel) {
    return {
      selector: { ...selectorLabels, [roleLabel.key]: roleLabel.primary },
      readServiceName: `${name}-read`,
      readSelector: { ...selectorLabels, [roleLabel.key]: roleLabel.replica },
    };
  }
  if (primaryOrdinal === undefined) return { selector: selectorLabels };
  // the StatefulSet controller labels every pod with its name: a single writer is selectable
  return { selector: { ...selectorLabels, 'statefulset.kubernetes.io/pod-name': `${name}-${primaryOrdinal}` }, readServiceName: `${name}-read`, readSelector: selectorLabels };
}

/** Where the members reach the API server, for an engine that uses it. */
function resolveApiServer(check: PropValidator, access: ApiAccess | undefined): ApiServerEgress | undefined {
  if (access === undefined) return undefined;
  const cidrs = access.apiServerCidrs ?? ['0.0.0.0/0'];
  const ports = access.apiServerPorts ?? [443, 6443];
  if (!Array.isArray(cidrs) || !Array.isArray(ports) || cidrs.length === 0 || ports.length === 0) {
    check.fail(`apiServerCidrs and apiServerPorts must each be a list of at least one, got ${show(cidrs)} and ${show(ports)}. Fix: omit them for any address on ports 443 and 6443.`);
  }
  cidrs.forEach((c) => check.ipv4Cidr('apiServerCidrs', c, "'10.0.0.10/32', the API server's endpoint address"));
  ports.forEach((p) => check.port('apiServerPorts', p));
  return { cidrs, ports };
}

/** The engine's other egress (a backup store): addresses and ports checked. */
function resolveEgress(check: PropValidator, egress: EngineEgress[] | undefined): ApiServerEgress[] | undefined {
  if (egress === undefined || egress.length === 0) return undefined;
  return egress.map((e) => {
    e.cidrs.forEach((c) => check.ipv4Cidr(`${e.what} egressCidrs`, c, "'10.0.0.0/8', the store's addresses, or '0.0.0.0/0'"));
    e.ports.forEach((p) => check.port(`${e.what} port`, p));
    return { cidrs: e.cidrs, ports: e.ports };
  });
}

function resolveBudget(check: PropValidator, identity: DatabaseIdentity, props: StatefulDatabaseProps): ResolvedServices['budget'] {
  if (!(props.podDisruptionBudget ?? true)) {
    if (props.maxUnavailable !== undefined) check.fail('maxUnavailable is given, but podDisruptionBudget is false. Fix: drop maxUnavailable, or keep the budget.');
    return undefined;
  }
  const { engine, replicas } = identity;
  const quorumSafe = engine.quorum ? Math.max(1, Math.floor((replicas - 1) / 2)) : 1;
  const maxUnavailable = check.integer('maxUnavailable', props.maxUnavailable ?? quorumSafe, 1, Math.max(1, replicas),
    'allow at least 1 disruption (0 blocks every node drain) and at most the replica count');
  if (engine.quorum && replicas >= 3 && maxUnavailable > quorumSafe) {
    check.fail(`maxUnavailable ${maxUnavailable} would let a drain break the quorum of ${replicas} members (at most ${quorumSafe} may be down). Fix: omit maxUnavailable, or set it to ${quorumSafe} or less.`);
  }
  return { maxUnavailable };
}

function resolveDns(check: PropValidator, props: StatefulDatabaseProps): ClusterDns {
  const dns = check.record('dnsEgress', props.dnsEgress ?? {});
  const cidr = dns.cidr === undefined ? undefined : check.ipv4Cidr('dnsEgress cidr', dns.cidr, "'169.254.20.10/32'");
  if (cidr !== undefined && (dns.namespaceLabels !== undefined || dns.podLabels !== undefined)) {
    check.fail('dnsEgress gives a cidr and labels. Fix: keep one: the cidr of a node-local DNS cache, or the labels of the DNS pods.');
  }
  const namespaceLabels = check.labels('dnsEgress namespaceLabels', dns.namespaceLabels ?? { 'kubernetes.io/metadata.name': 'kube-system' });
  const podLabels = check.labels('dnsEgress podLabels', dns.podLabels ?? { 'k8s-app': 'kube-dns' });
  return { namespaceLabels, podLabels, port: check.port('dnsEgress port', dns.port ?? 53), cidr };
}
