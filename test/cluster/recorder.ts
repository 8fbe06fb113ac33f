// Records the pod watch events of one namespace, in the order the API server delivers them, and
// answers ordering questions from that record (never from timestamps, which have 1 s resolution).
import { get, podReady, watch, Watch, WatchEvent } from './kube';

export interface PodEvent {
  /** Position in the stream. */
  readonly seq: number;
  readonly type: WatchEvent['type'];
  readonly name: string;
  readonly uid: string;
  readonly ready: boolean;
  readonly phase?: string;
  readonly node?: string;
  readonly deleting: boolean;
  readonly revision?: string;
  readonly unschedulable: boolean;
}

export class PodRecorder {
  public readonly events: PodEvent[] = [];
  private w?: Watch;

  private constructor(public readonly namespace: string) {}

  /** Lists the pods, then watches from that list's resourceVersion: only changes after now. */
  public static async start(namespace: string): Promise<PodRecorder> {
    const r = new PodRecorder(namespace);
    const list = await get(`/api/v1/namespaces/${namespace}/pods`);
    r.w = watch(`/api/v1/namespaces/${namespace}/pods`, (e) => r.add(e), { resourceVersion: list.metadata.resourceVersion });
    await r.w.started;
    return r;
  }

  public stop(): void {
    this.w?.stop();
  }

  private add(e: WatchEvent): void {
    if (e.type !== 'ADDED' && e.type !== 'MODIFIED' && e.type !== 'DELETED') return;
    const p = e.object;
    this.events.push({
      seq: this.events.length,
      type: e.type,
      name: p.metadata.name,
      uid: p.metadata.uid,
      ready: podReady(p),
      phase: p.status?.phase,
      node: p.spec?.nodeName,
      deleting: !!p.metadata.deletionTimestamp,
      revision: p.metadata.labels?.['controller-revision-hash'],
      unschedulable: (p.status?.conditions ?? []).some((c: any) => c.type === 'PodScheduled' && c.status === 'False'),
    });
  }

  /** A compact, readable form of the record for failure messages. */
  public dump(): string {
    return this.events.map((e) =>
      `${e.seq} ${e.type} ${e.name} uid=${e.uid.slice(0, 8)} ready=${e.ready}${e.deleting ? ' deleting' : ''}${e.node ? ` node=${e.node}` : ''}${e.unschedulable ? ' unschedulable' : ''}`,
    ).join('\n');
  }

  /** The first event matching `pred`, or undefined. */
  public first(pred: (e: PodEvent) => boolean): PodEvent | undefined {
    return this.events.find(pred);
  }

  public all(pred: (e: PodEvent) => boolean): PodEvent[] {
    return this.events.filter(pred);
  }
}
