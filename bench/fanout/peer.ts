/**
 * The orchestrator's handle on a child process: spawns it with a raised
 * open-file limit, sends requests and awaits their replies, and queues the
 * messages the child sends on its own (batches, publishes, ACK reports).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { type ClockOffset, calibrate } from "./clock";
import type { ChildMessage, Reply, Request } from "./protocol";

type Unsolicited = Exclude<ChildMessage, { type: "reply" }>;
/** A request without its sequence number (the peer numbers requests). */
type RequestBody = Request extends infer R ? (R extends { seq: number } ? Omit<R, "seq"> : never) : never;

/**
 * The open-file limit a child gets: the soft limit raised to the hard one
 * (one socket per node, plus some for Node itself). Raising the hard limit
 * needs root (`ulimit -Hn`, /etc/security/limits.conf).
 */
export function childFileLimit(): number {
  const out = execFileSync("sh", ["-c", "ulimit -n $(ulimit -Hn) 2>/dev/null; ulimit -n"], { encoding: "utf8" }).trim();
  return out === "unlimited" ? Number.POSITIVE_INFINITY : Number(out);
}

export class Peer {
  readonly child: ChildProcess;
  private seq = 0;
  private readonly pending = new Map<number, (r: ChildMessage) => void>();
  private readonly inbox: Unsolicited[] = [];
  private waiters: Array<() => void> = [];
  private exitCode: number | null | undefined;
  /** Subtract from this child's clock readings to get the orchestrator's clock. */
  offset: ClockOffset = { offsetMs: 0, uncertaintyMs: 0 };
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
    nodeFlags: readonly string[] = [],
  ) {
    // `ulimit` only exists in a shell; exec keeps the IPC descriptor open for Node.
    this.child = spawn(
      "sh",
      ["-c", 'ulimit -n $(ulimit -Hn) 2>/dev/null; exec "$0" "$@"', process.execPath, ...nodeFlags, "--import", "tsx", script, ...args],
      // "advanced" (structured clone) keeps NaN (a node that never ACKed), which JSON would turn into null.
      { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" },
    );
    this.child.on("message", (m: unknown) => this.onMessage(m as ChildMessage));
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => {
        this.exitCode = code;
        for (const w of this.waiters.splice(0)) w();
        for (const p of this.pending.values()) p({ type: "failed", message: `${name} exited with code ${code}` });
        this.pending.clear();
        resolve(code);
      }),
    );
  }

  /** Sends a request and resolves with the child's reply. */
  async request<K extends Reply["kind"]>(body: RequestBody, kind: K): Promise<Extract<Reply, { kind: K }> & { seq: number }> {
    const seq = ++this.seq;
    const reply = await new Promise<ChildMessage>((resolve) => {
      this.pending.set(seq, resolve);
      this.child.send({ ...body, seq });
    });
    if (reply.type === "failed") throw new Error(`${this.name}: ${reply.message}`);
    if (reply.type !== "reply" || reply.kind !== kind) throw new Error(`${this.name}: expected a ${kind} reply, got ${JSON.stringify(reply).slice(0, 200)}`);
    return reply as Extract<Reply, { kind: K }> & { type: "reply"; seq: number };
  }

  /** Sends a request whose answer comes later as an unsolicited message; returns its sequence number. */
  nextSeq(): number {
    return ++this.seq;
  }

  send(req: Request): void {
    this.child.send(req);
  }

  /** The next queued message of `type` matching `match`, waiting up to `timeoutMs`. */
  async next<T extends Unsolicited["type"]>(
    type: T,
    timeoutMs: number,
    match: (m: Extract<Unsolicited, { type: T }>) => boolean = () => true,
  ): Promise<Extract<Unsolicited, { type: T }> | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type && match(m as Extract<Unsolicited, { type: T }>));
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<Unsolicited, { type: T }>;
      const failed = this.inbox.find((m) => m.type === "failed");
      if (failed?.type === "failed") throw new Error(`${this.name}: ${failed.message}`);
      if (this.exitCode !== undefined) throw new Error(`${this.name} exited with code ${this.exitCode}`);
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Drops queued messages (left over from an earlier scenario). */
  drain(type: Unsolicited["type"]): void {
    for (let i = this.inbox.length - 1; i >= 0; i--) if (this.inbox[i]?.type === type) this.inbox.splice(i, 1);
  }

  async calibrateClock(): Promise<ClockOffset> {
    this.offset = await calibrate(async () => (await this.request({ op: "clock" }, "clock")).now);
    return this.offset;
  }

  /** A child's clock reading on the orchestrator's clock. */
  toLocal(t: number): number {
    return t - this.offset.offsetMs;
  }

  kill(): void {
    if (this.exitCode === undefined) this.child.kill("SIGKILL");
  }

  private onMessage(m: ChildMessage): void {
    if (m.type === "reply") {
      const p = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      p?.(m);
      return;
    }
    if (m.type === "failed") for (const p of this.pending.values()) p(m);
    this.inbox.push(m);
    for (const w of this.waiters.splice(0)) w();
  }
}
