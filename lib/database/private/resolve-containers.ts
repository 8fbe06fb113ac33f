import { IConstruct } from 'constructs';
import { PropValidator } from '../../prop-validator';
import { DatabasePort, EngineBinding, InitContainer, NamedVolumeMount, SidecarContainer } from '../engine-definition';
import { SCRIPTS_PATH } from '../engines/private/engine-scripts';
import { HealthProbe } from '../probe';
import type { ScratchVolume, StatefulDatabaseProps } from '../stateful-database-props';
import { ResolvedResources, resolveResources } from './container-resources';
import { DatabaseIdentity, ResolvedClaims, ResolvedContainer, ResolvedContainers, ResolvedMount, ResolvedVolume } from './database-spec';
import { CREDENTIALS_PATH, resolveEnv, scanCommand } from './resolve-env';
import { secretName } from './secret-name';

/** What the engine binds to a database of this shape (its env, init containers, files, ...). */
export function bindEngine(identity: DatabaseIdentity, claims: ResolvedClaims, props: StatefulDatabaseProps, scope: IConstruct): EngineBinding {
  return identity.engine.bind({
    name: identity.name,
    replicas: identity.replicas,
    startOrdinal: identity.startOrdinal,
    peerAddresses: identity.peerAddresses,
    headlessServiceName: identity.headlessServiceName,
    dataPath: claims.claims[0].mountPath,
    dataVolume: claims.claims[0].name,
    credentials: props.credentials,
    credentialsPath: props.credentials ? CREDENTIALS_PATH : undefined,
    scope,
  });
}

/** The volumes, the init containers (the engine's, then the user's) and the database container. */
export function resolveContainers(check: PropValidator, identity: DatabaseIdentity, claims: ResolvedClaims, binding: EngineBinding,
  props: StatefulDatabaseProps): ResolvedContainers {
  const { volumes, scriptsConfigMap } = resolveVolumes(check, identity, binding, props);
  const volumeNames = [...volumes.map((v) => v.name), ...claims.claims.map((c) => c.name)];
  const duplicateVolume = volumeNames.find((n, i) => volumeNames.indexOf(n) !== i);
  if (duplicateVolume) check.fail(`volume name '${duplicateVolume}' is used twice. Fix: give every claim template and scratch volume its own name.`);
  const mounts = new MountResolver(check, volumeNames, scriptsConfigMap !== undefined, props.credentials !== undefined);
  const main = resolveMain(check, identity, claims, binding, props, mounts);
  const { initContainers, sidecars } = resolveInitContainers(check, identity, binding, props, mounts, main.resources);
  const served = new Set(sidecars.flatMap((c) => (c.ports ?? []).map((p) => p.port)));
  // a port a sidecar serves is declared on the sidecar, not on the database container
  const database = served.size === 0 ? main : { ...main, ports: main.ports?.filter((p) => !served.has(p.port)) };
  return { volumes, initContainers, main: database, sidecars, scriptsConfigMap };
}

/** Scratch volumes (the user's, the engine's, `/tmp`), memory volumes, the scripts and the credentials. */
function resolveVolumes(check: PropValidator, identity: DatabaseIdentity, binding: EngineBinding, props: StatefulDatabaseProps) {
  const scratch: ScratchVolume[] = [
    ...check.list('scratchVolumes', props.scratchVolumes),
    ...(binding.scratchVolumes ?? []).map((n) => ({ name: n })),
    { name: 'tmp' },
  ];
  const volumes: ResolvedVolume[] = scratch.map((v) => ({
    name: check.dnsLabel('scratch volume name', v.name),
    emptyDir: { sizeLimit: v.sizeLimit !== undefined && check.sizeKib(`sizeLimit of '${v.name}'`, v.sizeLimit) ? v.sizeLimit.asString() : undefined },
  }));
  // memory-backed: the kubelet sizes it to the pod's memory limit, and it counts against it
  (binding.memoryVolumes ?? []).forEach((n) => volumes.push({ name: check.dnsLabel('memory volume name', n), emptyDir: { memory: true } }));
  const scriptsConfigMap = binding.files && Object.keys(binding.files).length > 0 ? { name: `${identity.name}-scripts`, files: binding.files } : undefined;
  if (scriptsConfigMap) volumes.push({ name: 'scripts', configMap: scriptsConfigMap.name });
  if (props.credentials) {
    check.record('credentials', props.credentials);
    volumes.push({ name: 'credentials', secret: secretName(check, 'credentials.secret', props.credentials.secret) });
  }
  return { volumes, scriptsConfigMap };
}

/** Checks a container's mounts against the pod's volumes, adding the ones every container has. */
class MountResolver {
  constructor(private readonly check: PropValidator, private readonly volumeNames: string[],
    private readonly scripts: boolean, private readonly credentials: boolean) {}

  /** The mounts given, then `/tmp`, the scripts and the credentials; each of an existing volume, at its own path. */
  public resolve(container: string, given: NamedVolumeMount[]): ResolvedMount[] {
    const mounts: NamedVolumeMount[] = [
      ...given,
      { volume: 'tmp', path: '/tmp' },
      ...(this.scripts ? [{ volume: 'scripts', path: SCRIPTS_PATH, readOnly: true }] : []),
      ...(this.credentials ? [{ volume: 'credentials', path: CREDENTIALS_PATH, readOnly: true }] : []),
    ];
    const check = this.check;
    const paths = new Set<string>();
    return check.list(`mounts of container '${container}'`, mounts).map((m) => {
      if (!this.volumeNames.includes(m.volume)) {
        check.fail(`container '${container}' mounts volume '${m.volume}', which does not exist (volumes: ${this.volumeNames.join(', ')}). Fix: declare it in scratchVolumes or extraVolumeClaims, or mount an existing one.`);
      }
      check.absolutePath(`mount path of '${m.volume}' in container '${container}'`, m.path);
      if (paths.has(m.path)) check.fail(`container '${container}' mounts two volumes at '${m.path}'. Fix: give each mount its own path.`);
      paths.add(m.path);
      return { volume: m.volume, path: m.path, readOnly: m.readOnly, subPath: m.subPath };
    });
  }
}

/** How an engine's or the user's extra container (init or sidecar) is checked and resolved. */
interface ExtraContainers {
  readonly check: PropValidator;
  readonly mounts: MountResolver;
  readonly registry?: string;
  /** The resources of a preset's containers when they give none (`initContainerResources`). */
  readonly presetDefaults: ResolvedResources;
  /** The database container's resources, for a container that runs the server. */
  readonly database: ResolvedResources;
}

/** One init container or sidecar, checked; `engine` when the engine brings it (the registry override applies). */
function resolveExtraContainer(x: ExtraContainers, kind: string, c: InitContainer, engine: boolean): ResolvedContainer {
  const check = x.check;
  const image = check.pinnedImage(`image of ${kind} '${c.name}'`, c.image);
  if (c.runsServer && c.resources !== undefined) {
    check.fail(`${kind} '${c.name}' has runsServer and resources: a container that runs the server gets the database's resources. Fix: drop resources, or set runsServer to false.`);
  }
  const own = `resources of ${kind} '${c.name}'`;
  const resources = c.runsServer ? x.database : resolveResources(check, own, c.resources, engine ? x.presetDefaults : undefined);
  scanCommand(check, `the command of ${kind} '${c.name}'`, c.command);
  scanCommand(check, `the args of ${kind} '${c.name}'`, c.args);
  return {
    name: c.name,
    // the registry override applies to what the engine brings, not to images the user wrote
    image: x.registry !== undefined && engine ? withRegistry(image, x.registry) : image,
    command: c.command,
    args: c.args,
    env: resolveEnv(check, `${kind} '${c.name}'`, c.env),
    mounts: x.mounts.resolve(c.name, check.list(`mounts of ${kind} '${c.name}'`, c.mounts)),
    resources,
  };
}

/** The engine's init containers, then the user's, and the engine's sidecars; every container name distinct. */
function resolveInitContainers(check: PropValidator, identity: DatabaseIdentity, binding: EngineBinding, props: StatefulDatabaseProps,
  mounts: MountResolver, database: ResolvedResources): { initContainers: ResolvedContainer[]; sidecars: ResolvedContainer[] } {
  const engineInits = binding.initContainers ?? [];
  const x: ExtraContainers = {
    check, mounts, database, registry: identity.registry,
    presetDefaults: resolveResources(check, 'initContainerResources', props.initContainerResources),
  };
  const initContainers = [...engineInits, ...check.list('initContainers', props.initContainers)]
    .map((c: InitContainer, i) => resolveExtraContainer(x, 'init container', c, i < engineInits.length));
  const sidecars = check.list('sidecars', binding.sidecars).map((c: SidecarContainer) => resolveSidecar(x, identity, c));
  const containerNames = ['main', ...initContainers.map((c) => c.name), ...sidecars.map((c) => c.name)];
  containerNames.forEach((n) => check.dnsLabel('container name', n));
  const dupContainer = containerNames.find((n, i) => containerNames.indexOf(n) !== i);
  if (dupContainer) {
    const taken = ['main', ...sidecars.map((c) => c.name)].map((n) => `'${n}'`).join(', ');
    check.fail(`container name '${dupContainer}' is used twice. Fix: give each init container a distinct name other than ${taken}.`);
  }
  return { initContainers, sidecars };
}

/** The requests and limits of an engine's sidecar unless it says otherwise: a small helper process. */
const SIDECAR_RESOURCES: ResolvedResources = {
  cpu: { request: '50m', limit: '500m' },
  memory: { request: '32Mi', limit: '128Mi' },
  ephemeralStorage: { request: '16Mi', limit: '256Mi' },
};

/** An engine's sidecar: checked like its init containers, with its ports, liveness probe and small default resources. */
function resolveSidecar(x: ExtraContainers, identity: DatabaseIdentity, c: SidecarContainer): ResolvedContainer {
  const check: PropValidator = x.check;
  const ports = (c.ports ?? []).map((port) => {
    const p = identity.engine.ports.find((e) => e.port === port);
    if (!p) check.fail(`sidecar '${c.name}' serves port ${port}, which is not one of the engine's ports (${identity.engine.ports.map((e) => e.port).join(', ')}). Fix: add it to the engine's ports.`);
    return { name: p.name, port: p.port };
  });
  if (c.livenessProbe !== undefined) validateProbe(check, `livenessProbe of sidecar '${c.name}'`, c.livenessProbe, identity.engine.ports);
  const resolved = resolveExtraContainer({ ...x, presetDefaults: SIDECAR_RESOURCES }, 'sidecar', c, true);
  if (c.metricsPort !== undefined && identity.engine.ports.some((e) => e.port === c.metricsPort!.port || e.name === c.metricsPort!.name)) {
    check.fail(`sidecar '${c.name}' serves its metrics on port ${c.metricsPort.port} ('${c.metricsPort.name}'), which the engine's ports use already. Fix: give the metrics a port and name of their own.`);
  }
  const served = [...ports, ...(c.metricsPort ? [{ name: c.metricsPort.name, port: c.metricsPort.port }] : [])];
  return { ...resolved, ports: served.length > 0 ? served : undefined, livenessProbe: c.livenessProbe };
}

/** The database container: the engine's image and command, the claims mounted, probes, env and resources. */
function resolveMain(check: PropValidator, identity: DatabaseIdentity, claims: ResolvedClaims, binding: EngineBinding,
  props: StatefulDatabaseProps, mounts: MountResolver): ResolvedContainer {
  const engine = identity.engine;
  const mainMounts = [
    ...claims.claims.map((c) => ({ volume: c.name, path: c.mountPath })),
    ...(binding.mounts ?? []),
    ...check.list('mounts', props.mounts),
  ];
  const clientPort = identity.clientPorts[0]?.targetPort ?? identity.servicePorts[0].targetPort;
  const readiness = props.readinessProbe ?? engine.readinessProbe ?? HealthProbe.tcp(clientPort);
  // No default liveness probe: one that repeats the readiness check restarts a database that is
  // merely busy, and cascades under load (kube-score: pod-probes-identical).
  const liveness = props.livenessProbe ?? engine.livenessProbe;
  const startup = props.startupProbe ?? engine.startupProbe;
  validateProbe(check, 'readinessProbe', readiness, engine.ports);
  if (liveness !== undefined) validateProbe(check, 'livenessProbe', liveness, engine.ports);
  if (startup !== undefined) validateProbe(check, 'startupProbe', startup, engine.ports);
  const command = binding.command ?? engine.command;
  const args = binding.args ?? engine.args;
  scanCommand(check, 'the command of the database container', command);
  scanCommand(check, 'the args of the database container', args);
  scanCommand(check, 'the preStop command of the database container', binding.preStop);
  return {
    name: 'main',
    image: identity.registry !== undefined ? withRegistry(engine.image, identity.registry) : engine.image,
    command,
    args,
    ports: engine.ports.map((p) => ({ name: p.name, port: p.port })),
    env: resolveEnv(check, 'the database container', { ...binding.env, ...props.env }),
    mounts: mounts.resolve('main', mainMounts),
    readinessProbe: readiness,
    livenessProbe: liveness,
    startupProbe: startup,
    preStop: binding.preStop,
    resources: resolveResources(check, 'resources', props.resources),
  };
}

/**
 * The image from another registry: `postgres:17.2` (Docker Hub's `library/postgres`) becomes
 * `<registry>/library/postgres:17.2`; `quay.io/x/y:1` becomes `<registry>/x/y:1`.
 */
export function withRegistry(image: string, registry: string): string {
  const parts = image.split('/');
  const hasRegistry = parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost');
  const repository = hasRegistry ? parts.slice(1) : parts.length === 1 ? ['library', ...parts] : parts;
  return `${registry}/${repository.join('/')}`;
}

/** A probe's timings, threshold, command and port. */
export function validateProbe(check: PropValidator, kind: string, probe: HealthProbe, ports: DatabasePort[]): void {
  if (!(probe instanceof HealthProbe)) check.fail(`${kind} must be a HealthProbe, got ${JSON.stringify(probe)}. Fix: e.g. HealthProbe.tcp(5432).`);
  for (const [option, value] of Object.entries(probe.timings)) {
    if (value !== undefined) check.seconds(`${kind} ${option}`, value, 3600);
  }
  scanCommand(check, `the command of ${kind}`, probe.execCommand);
  check.integer(`${kind} failureThreshold`, probe.failureThreshold, 1, 100, 'use 1 or more consecutive failures');
  if (probe.port !== undefined && !ports.some((p) => p.port === probe.port)) {
    check.fail(`${kind} targets port ${probe.port}, which the container does not expose (ports: ${ports.map((p) => p.port).join(', ')}). Fix: probe one of the engine's ports.`);
  }
}
