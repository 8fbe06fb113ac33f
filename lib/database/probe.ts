import { Duration } from 'cdk8s';
import * as k8s from '../../imports/k8s';

/** Timing options of a probe. */
export interface HealthProbeOptions {
  /**
   * Wait before the first probe.
   * @default - none (Kubernetes: 0s)
   */
  readonly initialDelay?: Duration;
  /**
   * How often to probe.
   * @default Duration.seconds(10)
   */
  readonly period?: Duration;
  /**
   * How long one probe may take.
   * @default Duration.seconds(5)
   */
  readonly timeout?: Duration;
  /**
   * Consecutive failures before the probe counts as failed.
   * @default 3
   */
  readonly failureThreshold?: number;
}

/**
 * A liveness or readiness check.
 * @see https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
 */
export class HealthProbe {
  /** Opens a TCP connection to `port`. */
  public static tcp(port: number, options: HealthProbeOptions = {}): HealthProbe {
    return new HealthProbe({ tcpSocket: { port: k8s.IntOrString.fromNumber(port) } }, options);
  }

  /** HTTP GET of `path` (with its query) on `port`; 200–399 counts as success. */
  public static http(path: string, port: number, options: HealthProbeOptions = {}): HealthProbe {
    return new HealthProbe({ httpGet: { path, port: k8s.IntOrString.fromNumber(port) } }, options);
  }

  /** Runs `command` in the container; exit code 0 counts as success. */
  public static command(command: string[], options: HealthProbeOptions = {}): HealthProbe {
    return new HealthProbe({ exec: { command } }, options);
  }

  private constructor(private readonly action: k8s.Probe, private readonly options: HealthProbeOptions) {}

  /** The probe's timing options, as given. */
  public get timings(): HealthProbeOptions {
    return { initialDelay: this.options.initialDelay, period: this.options.period, timeout: this.options.timeout };
  }

  /** Consecutive failures before the probe counts as failed. */
  public get failureThreshold(): number {
    return this.options.failureThreshold ?? 3;
  }

  /** The port the probe connects to, if any. */
  public get port(): number | undefined {
    return (this.action.tcpSocket?.port ?? this.action.httpGet?.port)?.value as number | undefined;
  }

  /** The command an exec probe runs, if it is one (not `command`: jsii forbids a member named like the static factory). */
  public get execCommand(): string[] | undefined {
    return this.action.exec?.command;
  }

  /** @internal */
  public _toKube(): k8s.Probe {
    return {
      ...this.action,
      initialDelaySeconds: this.options.initialDelay?.toSeconds(),
      periodSeconds: (this.options.period ?? Duration.seconds(10)).toSeconds(),
      timeoutSeconds: (this.options.timeout ?? Duration.seconds(5)).toSeconds(),
      failureThreshold: this.options.failureThreshold ?? 3,
    };
  }
}
