/**
 * The pipeline's version selection (control/policies.ts VersionSelection):
 * what a filter serves when the folder names a quarantined version. The
 * choice itself is FilterVersions.select; this says so in the log and the
 * event log and builds the ServedFilter. It never refuses: a quarantine
 * must not block edits to other resources, other filters or a start
 * (issue 11), so with nothing better the quarantined version is served,
 * loudly, with how to clear it.
 */
import type { EventLog } from "../events/event-log";
import { type ServedFilter, asVersion, versionBytes } from "../config/filter-version";
import type { Logger } from "../logger";
import type { FilterVersions, Selection } from "./filter-versions";
import type { KnownGood } from "./state-store";

export interface SelectorOptions {
  readonly versions: FilterVersions;
  readonly moduleBytes: (sha256: string) => Uint8Array | undefined;
  /** The state file, named in warnings. */
  readonly stateFile: string;
  readonly events: EventLog;
  readonly logger: Logger;
}

/** The version a filter serves and why (the candidate, a fallback, or the quarantined one kept). */
export interface HealthSelection {
  readonly served: ServedFilter;
  readonly reason: Selection["kind"];
}

export class HealthVersionSelection {
  // Said once per situation, not on every rebuild.
  private readonly said = new Set<string>();

  constructor(private readonly o: SelectorOptions) {}

  /** `servedNow`: what the filter serves now (the last publish), kept when no known-good version is left. */
  select(candidate: ServedFilter, servedNow: ServedFilter | undefined): HealthSelection {
    const o = this.o;
    const name = candidate.filter.name;
    const pick: Selection = o.versions.select(candidate, { has: (sha, settings) => versionBytes(settings, o.moduleBytes(sha)) !== undefined, ...(servedNow && { previous: servedNow }) });
    if (pick.kind === "candidate") return { served: candidate, reason: pick.kind };
    for (const m of pick.missing) this.once(`missing ${name} ${m.key}`, () => warnMissing(o, name, m));
    const sha8 = candidate.module.sha256.slice(0, 8);
    if (pick.kind === "fallback") {
      const bytes = versionBytes(pick.good.settings, o.moduleBytes(pick.good.sha256))!;
      return { served: { filter: asVersion(candidate.filter, pick.good.settings, pick.good.sha256), module: { sha256: pick.good.sha256, bytes }, key: pick.good.key }, reason: pick.kind };
    }
    if (pick.kind === "previous") {
      this.once(`previous ${name} ${candidate.key} ${pick.served.key}`, () => {
        const message = `filter "${name}": version ${sha8} is quarantined and no known-good version is available; keeping ${name}@${pick.served.module.sha256.slice(0, 8)}, which it served before`;
        o.logger.warn(message);
        o.events.add("quarantine-kept-previous", "health", message, { filter: name, quarantined: candidate.module.sha256, serving: pick.served.module.sha256 });
      });
      return { served: pick.served, reason: pick.kind };
    }
    this.once(`only ${name} ${candidate.key}`, () => {
      const message = `filter "${name}": version ${sha8} is quarantined and there is nothing else to serve, so it is served anyway; fix the module, or clear the quarantine (POST /v1/filters/${name}/quarantine/clear) once it is known to be safe`;
      o.logger.error(message);
      o.events.add("quarantine-served", "health", message, { filter: name, sha256: candidate.module.sha256 });
    });
    return { served: candidate, reason: pick.kind };
  }

  private once(key: string, say: () => void): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    if (this.said.size > 1000) this.said.delete(this.said.values().next().value as string);
    say();
  }
}

function warnMissing(o: SelectorOptions, name: string, good: KnownGood): void {
  const message = `filter "${name}": known-good version ${good.sha256} (in ${o.stateFile}) is not in the module store; skipping it as a rollback target`;
  o.logger.warn(message, { filter: name, sha256: good.sha256, state: o.stateFile });
  o.events.add("state-module-missing", "health", message, { filter: name, sha256: good.sha256, state: o.stateFile });
}
