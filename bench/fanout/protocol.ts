/**
 * Messages between the fan-out orchestrator and its child processes (the
 * wasmxds server and the simulated Envoys), over Node's IPC channel. Every
 * request carries a sequence number; the child answers with `reply` and the
 * same number. Times are epoch milliseconds on the child's clock (clock.ts).
 */

export type Request =
  | { readonly op: "clock"; readonly seq: number }
  | { readonly op: "memory"; readonly seq: number }
  | { readonly op: "cpu"; readonly seq: number; readonly ms: number }
  /** Mark every node's currently ACKed version of these types; report when each has ACKed a different one. */
  | { readonly op: "arm"; readonly seq: number; readonly typeUrls: readonly string[]; readonly expected: number }
  /** Report an armed measurement now, with NaN for nodes that did not ACK. */
  | { readonly op: "collect"; readonly seq: number; readonly armSeq: number }
  /** Clients only: start every node (connect storm). */
  | { readonly op: "start"; readonly seq: number }
  /** Server only: a stamp on the monotonic clock, to cut CPU profiles into scenario windows. */
  | { readonly op: "mark"; readonly seq: number }
  | { readonly op: "stop"; readonly seq: number };

export interface MemoryFigures {
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly rss: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export interface CpuFigures {
  readonly userMs: number;
  readonly systemMs: number;
  readonly wallMs: number;
}

/** What an armed measurement found. */
export interface AckReport {
  /** Per node (clients: the process's nodes in order; server: in ACK order), when it had ACKed every armed type. NaN: never. */
  readonly times: readonly number[];
  /** Responses (clients) or pushes (server) per type URL while armed. */
  readonly responses: Readonly<Record<string, number>>;
  readonly nacks: number;
  /** CPU time (user + system, all threads) the process used from arming to this report, ms (the server's: with its xDS workers'). */
  readonly cpuMs: number;
  /** Server with workers: its main process's share of cpuMs, and its workers'. */
  readonly mainCpuMs?: number;
  readonly workersCpuMs?: number;
  /** Server: when the last push was written. */
  readonly lastPushAt?: number;
}

export type Reply =
  | { readonly kind: "clock"; readonly now: number }
  | ({ readonly kind: "memory"; readonly streams?: number } & MemoryFigures)
  | ({ readonly kind: "cpu" } & CpuFigures)
  | { readonly kind: "armed" }
  | { readonly kind: "started"; readonly startedAt: number; readonly loopMs: number }
  | { readonly kind: "mark"; readonly now: number; readonly monoMicros: number }
  | { readonly kind: "stopped" };

export type ChildMessage =
  | ({ readonly type: "reply"; readonly seq: number } & Reply)
  | ({ readonly type: "acked"; readonly seq: number } & AckReport)
  | { readonly type: "ready"; readonly port: number; readonly pid: number }
  | { readonly type: "batch"; readonly flushedAt: number; readonly firstStableAt: number }
  /** A snapshot was published; `at`: when it was handed to the cache. */
  | { readonly type: "published"; readonly at: number; readonly version: string; readonly changedTypes: readonly string[] }
  | { readonly type: "rejected"; readonly message: string }
  | { readonly type: "failed"; readonly message: string };

/** A child's end of the channel. */
export function sendToParent(message: ChildMessage): void {
  process.send?.(message);
}

export function onParentRequest(handler: (req: Request) => void): void {
  process.on("message", (m: unknown) => handler(m as Request));
  // The orchestrator going away (Ctrl-C, crash) must not leave 10,000 sockets open.
  process.on("disconnect", () => process.exit(0));
}
