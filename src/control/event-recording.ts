/**
 * What goes into the event log from the pipeline: the publisher
 * (publishes, rejections, fallbacks) and the pre-flight check. The xDS
 * side records its own (xds/event-recording.ts).
 */
import type { EventLog } from "../events/event-log";
import type { CheckRecord } from "./module-checks";
import type { Publisher } from "./publisher";

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
  // Notes say what a pass does not vouch for (another runtime, precompiled code: module-checks.ts).
  const notes = r.notes.length > 0 ? `; ${r.notes.join("; ")}` : "";
  events.add(r.ok ? "preflight-passed" : "preflight-failed", "preflight", r.ok ? `${what} passed${notes}` : `${what} failed at ${r.stage}: ${r.reason}${notes}`, {
    filter: r.filter,
    sha256: r.sha256,
    durationMs: r.durationMs,
    ...(!r.ok && { moduleLogs: r.logs }),
    ...(r.notes.length > 0 && { runtime: r.runtime, notes: r.notes }),
  });
}
