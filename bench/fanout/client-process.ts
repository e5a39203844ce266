/**
 * The client side of the fan-out benchmark: `count` simulated Envoys, each
 * with its own HTTP/2 connection and ADS stream, subscribing in Envoy's
 * order (CDS, EDS, LDS, then ECDS and RDS) and ACKing every response:
 * `grpc` or `h2` nodes (the simulator's ADS client alone, xds-node.ts, on a
 * grpc-js channel or on Node's http2; `xds` is the old name of `grpc`)
 * or `sim` nodes (full SimNodes with wasm off and no traffic).
 *
 * When armed, it notes each node's ACKed version of the armed types, and
 * stamps (clock.ts) the moment each node has ACKed a different version of
 * every one of them: the ACK is stamped when the node wrote it.
 *
 * Started by bench/fanout.ts: node --import tsx bench/fanout/client-process.ts <port> <first index> <count> [grpc|h2|sim] [sotw|delta]
 */
import { protoRoot } from "../../src/proto/registry";
import { SimNode } from "../../src/sim";
import { warmCodecs } from "./warm-codecs";
import { type NodeHooks, XdsOnlyNode } from "./xds-node";
import { now } from "./clock";
import { cpuOver, cpuSince, settledMemory } from "./common";
import { onParentRequest, type Request, sendToParent } from "./protocol";

const [portArg, firstArg, countArg, kindArg = "grpc", xdsApi = "sotw"] = process.argv.slice(2);
const kind = kindArg === "xds" ? "grpc" : kindArg;
const port = Number(portArg);
const first = Number(firstArg);
const count = Number(countArg);
if (!port || !Number.isInteger(first) || !count || (kind !== "grpc" && kind !== "h2" && kind !== "sim") || (xdsApi !== "sotw" && xdsApi !== "delta")) {
  throw new Error("usage: client-process.ts <port> <first index> <count> [grpc|h2|sim] [sotw|delta]");
}

// Load the protos and generate their codecs before the storm, as a running Envoy has its config types compiled in.
protoRoot();
warmCodecs();

/** Accepted version per type URL, per node. */
const accepted = new Map<string, string[]>();

interface Armed {
  readonly seq: number;
  readonly typeUrls: readonly string[];
  /** Per type, per node: the version ACKed when armed. */
  readonly baseline: Map<string, string[]>;
  /** Per node: how many armed types it has ACKed a new version of. */
  readonly progress: Uint8Array;
  readonly seen: Map<string, Uint8Array>;
  readonly times: Float64Array;
  readonly responses: Record<string, number>;
  nacks: number;
  readonly cpuAtArm: NodeJS.CpuUsage;
  done: number;
}
let armed: Armed | undefined;

function hooks(i: number): NodeHooks {
  return {
    onAck: (typeUrl, version) => {
      let versions = accepted.get(typeUrl);
      if (!versions) {
        versions = new Array<string>(count).fill("");
        accepted.set(typeUrl, versions);
      }
      versions[i] = version;
      const a = armed;
      if (!a) return;
      const seen = a.seen.get(typeUrl);
      if (!seen || seen[i] || a.baseline.get(typeUrl)?.[i] === version) return;
      seen[i] = 1;
      if (++(a.progress[i] as number) === a.typeUrls.length) {
        a.times[i] = now();
        if (++a.done === count) report(a);
      }
    },
    onResponse: (typeUrl) => {
      if (armed) armed.responses[typeUrl] = (armed.responses[typeUrl] ?? 0) + 1;
    },
    onNack: () => {
      if (armed) armed.nacks++;
    },
  };
}

const target = `127.0.0.1:${port}`;
const nodes: Array<{ start(): void | Promise<void>; stop(): void | Promise<void> }> = Array.from({ length: count }, (_, i) => {
  const id = `bench-${first + i}`;
  if (kind === "grpc" || kind === "h2") return new XdsOnlyNode(id, target, hooks(i), xdsApi, kind);
  // A storm of 10,000 may take longer than Envoy's 15 s default; a timeout would skip a type.
  const node = new SimNode({ id, cluster: "bench", xdsAddress: target, wasm: false, initialFetchTimeoutMs: 0, xdsApi });
  const h = hooks(i);
  // SimNode reports through its event emitter (a microtask after the write).
  node.events.on((e) => {
    if (e.kind === "ack") h.onAck(e.typeUrl, e.version);
    else if (e.kind === "response") h.onResponse(e.typeUrl);
    else if (e.kind === "nack") h.onNack(e.nack.typeUrl);
  });
  return node;
});

function report(a: Armed): void {
  if (armed !== a) return;
  armed = undefined;
  sendToParent({ type: "acked", seq: a.seq, times: [...a.times], responses: a.responses, nacks: a.nacks, cpuMs: cpuSince(a.cpuAtArm) });
}

onParentRequest((req: Request) => {
  handle(req).catch((err: unknown) => sendToParent({ type: "failed", message: String(err) }));
});

async function handle(req: Request): Promise<void> {
  switch (req.op) {
    case "clock":
      sendToParent({ type: "reply", seq: req.seq, kind: "clock", now: now() });
      return;
    case "memory":
      sendToParent({ type: "reply", seq: req.seq, kind: "memory", ...(await settledMemory()) });
      return;
    case "cpu":
      sendToParent({ type: "reply", seq: req.seq, kind: "cpu", ...(await cpuOver(req.ms)) });
      return;
    case "arm": {
      const baseline = new Map(req.typeUrls.map((t) => [t, [...(accepted.get(t) ?? new Array<string>(count).fill(""))]]));
      armed = {
        seq: req.seq,
        typeUrls: req.typeUrls,
        baseline,
        progress: new Uint8Array(count),
        seen: new Map(req.typeUrls.map((t) => [t, new Uint8Array(count)])),
        times: new Float64Array(count).fill(Number.NaN),
        responses: {},
        nacks: 0,
        cpuAtArm: process.cpuUsage(),
        done: 0,
      };
      sendToParent({ type: "reply", seq: req.seq, kind: "armed" });
      return;
    }
    case "collect":
      if (armed?.seq === req.armSeq) report(armed);
      return;
    case "start": {
      // All at once: every node opens its connection and stream in this one loop.
      const startedAt = now();
      for (const node of nodes) Promise.resolve(node.start()).catch((err: unknown) => sendToParent({ type: "failed", message: String(err) }));
      sendToParent({ type: "reply", seq: req.seq, kind: "started", startedAt, loopMs: now() - startedAt });
      return;
    }
    case "stop":
      await Promise.all(nodes.map((n) => n.stop()));
      sendToParent({ type: "reply", seq: req.seq, kind: "stopped" });
      process.disconnect?.();
      process.exit(0);
      return;
    case "mark":
      return;
  }
}

sendToParent({ type: "ready", port, pid: process.pid });
