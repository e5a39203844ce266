/**
 * `wasmxds dev` output: one line per event a developer cares about: a
 * module changed, pre-flight passed or failed (with the module's own log
 * lines), a version was pushed, each node's ACK or NACK with Envoy's text.
 * An observer the CLI hands to startWasmxds (main.ts WasmxdsObserver).
 */
import type { CheckRecord } from "../control/module-checks";
import type { PublisherEvent } from "../control/publisher";
import { SHORT_NAMES, type TypeUrl } from "../vocabulary/type-urls";
import type { XdsEvent } from "../xds/events";
import { type Terminal, paint } from "./output";

/** Above this many nodes, ACKs are summarised per version instead of one line each. */
const PER_NODE_LIMIT = 10;

export class DevOutput {
  private readonly acks = new Map<string, { count: number; timer: NodeJS.Timeout }>();
  private connected = 0;

  constructor(private readonly term: Terminal) {}

  line(symbol: string, color: Parameters<typeof paint>[1], text: string, detail: readonly string[] = []): void {
    const time = new Date().toISOString().slice(11, 23);
    this.term.out.write(`${paint(this.term, "gray", time)} ${paint(this.term, color, symbol)} ${text}\n`);
    for (const d of detail) this.term.out.write(`${" ".repeat(14)}${paint(this.term, "gray", `│ ${d}`)}\n`);
  }

  onReady(r: { readonly configDir: string; readonly xds: string; readonly modules: string; readonly watch: boolean }): void {
    this.line("▶", "cyan", `serving ${r.configDir} on xDS ${r.xds}, modules ${r.modules}${r.watch ? "; watching for changes" : ""}`);
  }

  onPublisher(e: PublisherEvent): void {
    switch (e.kind) {
      case "module-changed":
        this.line("●", "blue", `${paint(this.term, "bold", e.filter)} module changed ${e.from ? `${e.from.slice(0, 8)} → ` : ""}${e.to.slice(0, 8)}`);
        break;
      case "fallback":
        this.line("↺", "yellow", `${paint(this.term, "bold", e.filter)} ${e.quarantined.slice(0, 8)} is quarantined; serving last known-good ${e.serving.slice(0, 8)}`);
        break;
      case "warning":
        this.line("!", "yellow", e.message);
        break;
      case "published":
        this.line("↑", "magenta", `pushed version ${e.version} (${e.changedTypes.map(short).join(", ")})`);
        break;
      case "rejected": {
        const [first, ...rest] = e.message.split("\n");
        const kept = e.keptVersion ? `; still serving ${e.keptVersion}` : "";
        this.line("✗", "red", `${e.stage} rejected${kept}: ${first ?? ""}`, rest);
        break;
      }
    }
  }

  onCheck(r: CheckRecord, cached: boolean): void {
    const who = `${paint(this.term, "bold", r.filter)} ${r.sha256.slice(0, 8)}`;
    if (r.ok) {
      if (!cached) this.line("✓", "green", `${who} pre-flight passed (${r.durationMs} ms${r.smoke ? ", smoke request ok" : ""})`);
      return;
    }
    const again = cached ? " (same bytes as before; not retried)" : "";
    this.line("✗", "red", `${who} pre-flight failed at ${r.stage}${again}: ${r.reason}`, cached ? [] : r.logs);
  }

  onXds(e: XdsEvent): void {
    switch (e.kind) {
      case "connect":
        this.connected++;
        this.line("+", "cyan", `${e.node.id} connected${e.node.cluster ? ` (cluster ${e.node.cluster})` : ""}`);
        break;
      case "disconnect":
        this.connected--;
        this.line("-", "yellow", `${e.node.id} disconnected: ${e.reason}`);
        break;
      case "ack":
        this.ack(e.node.id, e.typeUrl, e.version);
        break;
      case "nack":
        this.line("✗", "red", `${e.nack.nodeId} NACK ${short(e.nack.typeUrl)} ${e.nack.rejectedVersion}: ${e.nack.message}`);
        break;
      case "push":
        break;
    }
  }

  private ack(nodeId: string, typeUrl: string, version: string): void {
    if (this.connected <= PER_NODE_LIMIT) {
      this.line("✓", "green", `${nodeId} ACK ${short(typeUrl)} ${version}`);
      return;
    }
    const key = `${typeUrl} ${version}`;
    const entry = this.acks.get(key);
    if (entry) {
      entry.count++;
      return;
    }
    const timer = setTimeout(() => {
      const n = this.acks.get(key)?.count ?? 0;
      this.acks.delete(key);
      this.line("✓", "green", `${n} nodes ACK ${short(typeUrl)} ${version}`);
    }, 500);
    timer.unref();
    this.acks.set(key, { count: 1, timer });
  }
}

function short(typeUrl: string): string {
  return SHORT_NAMES[typeUrl as TypeUrl] ?? typeUrl;
}
