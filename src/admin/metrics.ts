/**
 * Prometheus metrics of the control plane itself (GET /metrics), fed from
 * the xDS events, the health signals and the event log. prom-client does
 * the exposition format.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { EventLog } from "../events/event-log";
import type { Publisher } from "../control/publisher";
import type { FilterVersions } from "../health/filter-versions";
import type { SignalHub } from "../health/signal";
import { SHORT_NAMES, type TypeUrl } from "../vocabulary/type-urls";
import type { XdsStreams } from "../xds/xds-streams";

export interface MetricSources {
  readonly xds: XdsStreams;
  readonly publisher: Publisher;
  readonly versions: FilterVersions;
  readonly signals: SignalHub;
  readonly events: EventLog;
}

const short = (t: string) => SHORT_NAMES[t as TypeUrl] ?? t;

/** Event log types counted as `wasmxds_events_total{type}` (publishes, rejections, pre-flight, rollbacks, ...). */
const COUNTED_EVENTS = new Set([
  "published",
  "rejected",
  "preflight-passed",
  "preflight-failed",
  "rollback",
  "known-good",
  "quarantine-cleared",
  "fallback",
  "breach",
]);

export function createMetricsRegistry(src: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "wasmxds_process_" });
  new Gauge({
    name: "wasmxds_connected_nodes",
    help: "xDS streams with an identified node",
    registers: [registry],
    collect() {
      this.set(src.xds.nodes().length);
    },
  });
  new Gauge({
    name: "wasmxds_quarantined_versions",
    help: "Quarantined filter versions per filter",
    labelNames: ["filter"],
    registers: [registry],
    collect() {
      this.reset();
      for (const f of src.publisher.published?.loaded.config.filters ?? []) this.set({ filter: f.name }, src.versions.quarantined(f.name).length);
    },
  });
  // Counted here per message and handed to prom-client on scrape: a push to 10,000 nodes is 20,000
  // events (pushes and ACKs), and prom-client hashes the label set on every inc (docs/PERFORMANCE.md, round two).
  const counted = { push: new Map<string, number>(), ack: new Map<string, number>(), nack: new Map<string, number>() };
  const count = (kind: keyof typeof counted, typeUrl: string) => counted[kind].set(typeUrl, (counted[kind].get(typeUrl) ?? 0) + 1);
  new Counter({
    name: "wasmxds_xds_messages_total",
    help: "DiscoveryResponses pushed, ACKs and NACKs received",
    labelNames: ["type", "kind"],
    registers: [registry],
    collect() {
      for (const [kind, byType] of Object.entries(counted)) {
        for (const [typeUrl, n] of byType) this.inc({ type: short(typeUrl), kind }, n);
        byType.clear();
      }
    },
  });
  src.xds.events.on((e) => {
    if (e.kind === "push" || e.kind === "ack") count(e.kind, e.typeUrl);
    else if (e.kind === "nack") count("nack", e.nack.typeUrl);
  });
  const signals = new Counter({ name: "wasmxds_health_signals_total", help: "Health signals received from Envoy stats, access logs and NACKs", labelNames: ["kind", "source"], registers: [registry] });
  src.signals.on((s) => signals.inc({ kind: s.kind, source: s.source }, s.count));
  const events = new Counter({ name: "wasmxds_events_total", help: "Control-plane events by type (see GET /v1/events)", labelNames: ["type"], registers: [registry] });
  src.events.on((e) => {
    if (COUNTED_EVENTS.has(e.type)) events.inc({ type: e.type });
  });
  return registry;
}
