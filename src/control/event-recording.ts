/**
 * What goes into the event log from each part: the xDS side (connects,
 * NACKs), the publisher (publishes, rejections, fallbacks) and the
 * pre-flight check. ACKs are not logged one by one (too many); the admin
 * API shows them per node.
 */
import type { XdsServer } from "../xds/xds-server";
import type { EventLog } from "./event-log";
import type { CheckRecord } from "./module-checks";
import type { Publisher } from "./publisher";

export function recordXdsEvents(events: EventLog, xds: XdsServer): void {
  xds.events.on((e) => {
    if (e.kind === "connect") {
      events.add("node-connected", `node ${e.node.id}`, `${e.node.id} connected`, { group: e.group, cluster: e.node.cluster });
    } else if (e.kind === "disconnect") {
      events.add("node-disconnected", `node ${e.node.id}`, `${e.node.id} disconnected: ${e.reason}`);
    } else if (e.kind === "nack") {
      events.add("nack", `node ${e.nack.nodeId}`, e.nack.message, {
        type: e.nack.typeUrl,
        rejectedVersion: e.nack.rejectedVersion,
        keptVersion: e.nack.keptVersion,
        resources: e.nack.resourceNames,
      });
    }
  });
}

export function recordPublisherEvents(events: EventLog, publisher: Publisher): void {
  publisher.events.on((e) => {
    switch (e.kind) {
      case "published":
        events.add("published", "config", `published version ${e.version}`, { changed: e.changedTypes, modules: Object.fromEntries(e.modules) });
        break;
      case "rejected":
        events.add("rejected", "config", e.message, { stage: e.stage, keptVersion: e.keptVersion });
        break;
      case "module-changed":
        events.add("module-changed", "watcher", `filter ${e.filter} module ${e.to.slice(0, 8)}`, { filter: e.filter, from: e.from, to: e.to });
        break;
      case "fallback":
        events.add("fallback", "health", `${e.filter}@${e.quarantined.slice(0, 8)} is quarantined; serving ${e.filter}@${e.serving.slice(0, 8)}`, {
          filter: e.filter,
          quarantined: e.quarantined,
          serving: e.serving,
        });
        break;
      case "warning":
        events.add("warning", "config", e.message);
        break;
    }
  });
}

export function recordCheck(events: EventLog, r: CheckRecord): void {
  const what = `${r.filter} ${r.sha256.slice(0, 8)}`;
  events.add(r.ok ? "preflight-passed" : "preflight-failed", "preflight", r.ok ? `${what} passed` : `${what} failed at ${r.stage}: ${r.reason}`, {
    filter: r.filter,
    sha256: r.sha256,
    durationMs: r.durationMs,
    ...(!r.ok && { moduleLogs: r.logs }),
  });
}
