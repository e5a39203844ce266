/**
 * The publisher's version selector (control/publisher.ts VersionSelector):
 * what a filter serves when the folder names a quarantined version. The
 * choice itself is FilterVersions.select; this says so in the log and the
 * event log and builds the ServedFilter. It never refuses: a quarantine
 * must not block edits to other resources, other filters or a start
 * (issue 11), so with nothing better the quarantined version is served,
 * loudly, with how to clear it.
 */
import type { EventLog } from "../events/event-log";
import type { ServedFilter } from "../config/filter-version";
import type { Logger } from "../logger";
import type { FilterVersions, Selection } from "./filter-versions";
import type { KnownGood } from "./state-store";

export interface SelectorOptions {
  readonly versions: FilterVersions;
  readonly moduleBytes: (sha256: string) => Uint8Array | undefined;
  /** What the filter serves now (the last published snapshot). */
  readonly servedNow: (filter: string) => ServedFilter | undefined;
  /** The state file, named in warnings. */
  readonly stateFile: string;
  readonly events: EventLog;
  readonly logger: Logger;
}

export function versionSelector(o: SelectorOptions): (candidate: ServedFilter) => ServedFilter {
  // Said once per situation, not on every rebuild.
  const said = new Set<string>();
  const once = (key: string, say: () => void) => {
    if (said.has(key)) return;
    said.add(key);
    if (said.size > 1000) said.delete(said.values().next().value as string);
    say();
  };
  return (candidate) => {
    const name = candidate.filter.name;
    const previous = o.servedNow(name);
    const pick: Selection = o.versions.select(candidate, { has: (sha) => o.moduleBytes(sha) !== undefined, ...(previous && { previous }) });
    if (pick.kind === "candidate") return candidate;
    for (const m of pick.missing) once(`missing ${name} ${m.key}`, () => warnMissing(o, name, m));
    const sha8 = candidate.module.sha256.slice(0, 8);
    if (pick.kind === "fallback") {
      return { filter: { ...candidate.filter, ...pick.good.settings }, module: { sha256: pick.good.sha256, bytes: o.moduleBytes(pick.good.sha256)! }, key: pick.good.key };
    }
    if (pick.kind === "previous") {
      once(`previous ${name} ${candidate.key} ${pick.served.key}`, () => {
        const message = `filter "${name}": version ${sha8} is quarantined and no known-good version is available; keeping ${name}@${pick.served.module.sha256.slice(0, 8)}, which it served before`;
        o.logger.warn(message);
        o.events.add("quarantine-kept-previous", "health", message, { filter: name, quarantined: candidate.module.sha256, serving: pick.served.module.sha256 });
      });
      return pick.served;
    }
    once(`only ${name} ${candidate.key}`, () => {
      const message = `filter "${name}": version ${sha8} is quarantined and there is nothing else to serve, so it is served anyway; fix the module, or clear the quarantine (POST /v1/filters/${name}/quarantine/clear) once it is known to be safe`;
      o.logger.error(message);
      o.events.add("quarantine-served", "health", message, { filter: name, sha256: candidate.module.sha256 });
    });
    return candidate;
  };
}

function warnMissing(o: SelectorOptions, name: string, good: KnownGood): void {
  const message = `filter "${name}": known-good version ${good.sha256} (in ${o.stateFile}) is not in the module store; skipping it as a rollback target`;
  o.logger.warn(message, { filter: name, sha256: good.sha256, state: o.stateFile });
  o.events.add("state-module-missing", "health", message, { filter: name, sha256: good.sha256, state: o.stateFile });
}
