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
import type { XdsServer } from "../xds/xds-server";

export interface MetricSources {
  readonly xds: XdsServer;
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
      this.set(src.xds.streamStatuses().filter((s) => s.node).length);
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
  const xds = new Counter({ name: "wasmxds_xds_messages_total", help: "DiscoveryResponses pushed, ACKs and NACKs received", labelNames: ["type", "kind"], registers: [registry] });
  src.xds.events.on((e) => {
    if (e.kind === "push" || e.kind === "ack") xds.inc({ type: short(e.typeUrl), kind: e.kind });
    else if (e.kind === "nack") xds.inc({ type: short(e.nack.typeUrl), kind: "nack" });
  });
  const signals = new Counter({ name: "wasmxds_health_signals_total", help: "Health signals received from Envoy stats, access logs and NACKs", labelNames: ["kind", "source"], registers: [registry] });
  src.signals.on((s) => signals.inc({ kind: s.kind, source: s.source }, s.count));
  const events = new Counter({ name: "wasmxds_events_total", help: "Control-plane events by type (see GET /v1/events)", labelNames: ["type"], registers: [registry] });
  src.events.on((e) => {
    if (COUNTED_EVENTS.has(e.type)) events.inc({ type: e.type });
  });
  return registry;
}
