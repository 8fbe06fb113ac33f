import { IConstruct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { show } from '../errors';
import { PropValidator } from '../prop-validator';

/*
 * cdk8s-plus ships one package per Kubernetes line (cdk8s-plus-27, -28, ... -33), each with its
 * own copy of every class. Its `LabelSelector` has private fields, so TypeScript tells the copies
 * apart: a -33 Deployment is not a -27 `IPodSelector`, and a -27 peer is not a -33
 * `INetworkPolicyPeer`. The shapes below name only what the library and cdk8s-plus read, so the
 * objects of every line fit them.
 *
 * Parameters that take such objects are typed `IConstruct` and checked here at synth time: Java
 * and C# match interfaces by name and Go by exact method signatures, so no interface of the
 * library's (nor of one cdk8s-plus line) is implemented there by another line's classes, while
 * every line's objects are constructs in every language.
 */

/**
 * Which namespaces a pod selector's pods may be in: cdk8s-plus's `NamespaceSelectorConfig`, as
 * every cdk8s-plus line declares it.
 */
export interface NamespaceSelectorConfigLike {
  /**
   * A cdk8s-plus `LabelSelector` over the namespaces' labels. Typed `any` because each
   * cdk8s-plus line declares its own `LabelSelector` class, which TypeScript keeps apart from the
   * others'; any line's is accepted.
   * @default - no selection by namespace labels
   */
  readonly labelSelector?: any;
  /**
   * The namespaces' names.
   * @default - no selection by name
   */
  readonly names?: string[];
}

/**
 * A pod selector's pods: cdk8s-plus's `PodSelectorConfig`, as every cdk8s-plus line declares it.
 */
export interface PodSelectorConfigLike {
  /**
   * A cdk8s-plus `LabelSelector` over the pods' labels (`LabelSelector.of({ labels })` of any
   * line). Typed `any` because each cdk8s-plus line declares its own `LabelSelector` class, which
   * TypeScript keeps apart from the others'.
   */
  readonly labelSelector: any;
  /**
   * Where the pods may be.
   * @default - the namespace of the policy that names them
   */
  readonly namespaces?: NamespaceSelectorConfigLike;
}

/**
 * Something that selects pods, as every cdk8s-plus line declares it (its `IPodSelector`): a
 * `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `Pod`, `Pods.select(...)` or `Pods.all(...)`
 * of cdk8s-plus-27, -33 or a later line of the same shape. {@link Connections.allowFrom} takes
 * one; a {@link StatefulDatabase} is one, so every line's network policies accept it.
 *
 * ```ts
 * import * as kplus from 'cdk8s-plus-33';
 * const api = new kplus.Deployment(chart, 'api', { containers: [{ image: 'example/api:1.0.0' }] });
 * db.connections?.allowFrom(api);                                      // the database lets api in
 * api.connections.allowTo(db, { ports: [kplus.NetworkPolicyPort.tcp(5432)] }); // and api may reach it
 * ```
 */
export interface IPodSelectorLike extends IConstruct {
  /** Which pods, and in which namespaces: cdk8s-plus's `toPodSelectorConfig()`. */
  toPodSelectorConfig(): PodSelectorConfigLike;
}

/**
 * A network-policy peer's pods: cdk8s-plus's `NetworkPolicyPeerConfig` of a peer that is a pod
 * selector, which every cdk8s-plus line accepts.
 */
export interface NetworkPolicyPeerConfigLike {
  /**
   * The pods.
   * @default - none
   */
  readonly podSelector?: PodSelectorConfigLike;
}

/** The pods an {@link IPodSelectorLike} selects, as Kubernetes label selectors. */
export interface SelectedPods {
  /** The pods' labels. */
  readonly podSelector: k8s.LabelSelector;
  /** Their namespaces by name; empty for none named. */
  readonly namespaceNames: string[];
  /** Their namespaces by labels, if the selector has such labels. */
  readonly namespaceSelector?: k8s.LabelSelector;
}

const POD_SELECTOR_FIX = 'pass a cdk8s-plus workload (Deployment, StatefulSet, ...), Pods.select(...) or a StatefulDatabase, '
  + 'or name the pods by label with allowFromLabels(...)';

/** A value for an error message: a construct by its path (constructs are too big to print), anything else as it is. */
function describe(value: unknown): string {
  const path = (value as IConstruct | undefined)?.node?.path;
  return typeof path === 'string' ? `the construct '${path}'` : show(value);
}

/** A cdk8s-plus `LabelSelector` of any line, as Kubernetes spells it; `undefined` stays undefined. */
function kubeSelector(check: PropValidator, what: string, owner: unknown, selector: any): k8s.LabelSelector | undefined {
  if (selector === undefined || selector === null) return undefined;
  // `_toKube()` is how every cdk8s-plus line renders its own selectors: the only way to read one
  if (typeof selector._toKube !== 'function') {
    check.fail(`${what} got ${describe(owner)}, whose selector ${show(selector)} is not a cdk8s-plus LabelSelector. Fix: ${POD_SELECTOR_FIX}.`);
  }
  return selector._toKube() as k8s.LabelSelector;
}

/**
 * The pods a pod selector of any cdk8s-plus line selects. Anything else (a value without
 * `toPodSelectorConfig()`, or one whose config holds no cdk8s-plus `LabelSelector`, e.g. a
 * hand-written implementation in another language) fails with the construct's error.
 */
export function selectedPods(check: PropValidator, what: string, selector: IConstruct): SelectedPods {
  if (typeof (selector as Partial<IPodSelectorLike> | undefined)?.toPodSelectorConfig !== 'function') {
    check.fail(`${what} got ${describe(selector)}, which is not a pod selector (it has no toPodSelectorConfig()). Fix: ${POD_SELECTOR_FIX}.`);
  }
  const config = (selector as IPodSelectorLike).toPodSelectorConfig();
  const podSelector = kubeSelector(check, what, selector, config?.labelSelector);
  if (podSelector === undefined) {
    check.fail(`${what} got ${describe(selector)}, whose toPodSelectorConfig() has no labelSelector. Fix: ${POD_SELECTOR_FIX}.`);
  }
  const names = config.namespaces?.names ?? [];
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
    check.fail(`${what} got ${describe(selector)}, whose namespace names ${show(names)} are not a list of names. Fix: ${POD_SELECTOR_FIX}.`);
  }
  return {
    podSelector,
    namespaceNames: names,
    namespaceSelector: kubeSelector(check, what, selector, config.namespaces?.labelSelector),
  };
}
