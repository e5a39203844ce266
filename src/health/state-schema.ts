/**
 * The shape of state.json, checked field by field when it is read, and the
 * salvage of a file that is partly wrong. A control plane must start
 * (issue 11): a wrong entry is dropped with a warning naming the file and
 * the field path, and everything valid around it is kept; only the parts
 * that cannot be trusted are lost. What each loss means is said in the
 * warning (a dropped quarantine may serve that version again).
 */
import { z } from "zod";
import { issueLine } from "../config/issue-path";
import { errorMap } from "../config/zod-issues";
import type { FilterState, KnownGood, PersistedState, QuarantineRecord } from "./state-model";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex characters");
const versionKey = z.string().regex(/^[0-9a-f]{64}:[0-9a-f]{16}$/, "expected <sha256>:<16 hex characters> (a filter version key)");

const settings = z.looseObject({
  kind: z.enum(["http", "network"]),
  rootId: z.string(),
  vmId: z.string().optional(),
  configuration: z.string().optional(),
  vmConfiguration: z.string().optional(),
  failurePolicy: z.enum(["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"]),
  reloadBackoff: z.strictObject({ baseMs: z.number().positive(), maxMs: z.number().positive().optional() }).optional(),
  code: z.enum(["inline", "remote", "auto"]),
  discovery: z.enum(["ecds", "listener"]),
});

/** One entry of a known-good chain, without the entries behind it. */
const knownGoodEntry = z.looseObject({ sha256, key: versionKey, settings, since: z.string() });

const quarantineRecord = z.looseObject({
  sha256,
  key: versionKey,
  reason: z.string(),
  at: z.string(),
  nodes: z.array(z.string()),
  signals: z.array(z.looseObject({ kind: z.string(), node: z.string(), count: z.number(), evidence: z.string(), at: z.string() })),
});

const versionRef = z.looseObject({ sha256, key: versionKey, settings });
const activeRollout = z.looseObject({
  id: z.string(),
  candidate: versionRef,
  startedAt: z.number(),
  step: z.number().int().min(0),
  stepStartedAt: z.number(),
  bakeStartedAt: z.number().nullable(),
  pausedBakedMs: z.number().nullable(),
  picks: z.record(z.string(), z.array(z.string())),
  stepDisconnects: z.number().int().min(0),
});
const historyEntry = z.looseObject({
  id: z.string(),
  sha256: z.string(),
  outcome: z.enum(["completed", "aborted", "superseded", "cancelled"]),
  reason: z.string(),
  at: z.number(),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** What was read, and the problems found on the way (empty for a clean file). */
export interface ReadState {
  readonly state: PersistedState;
  readonly problems: readonly string[];
}

/** The file's value as state: valid parts kept, invalid ones dropped and reported as `file: path: message (consequence)`. */
export function salvageState(raw: unknown, file: string): ReadState {
  const problems: string[] = [];
  const check = <T>(schema: z.ZodType<T>, value: unknown, path: readonly PropertyKey[], consequence: string): T | undefined => {
    const r = schema.safeParse(value, { error: errorMap });
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    problems.push(`${issueLine(file, [...path, ...issue.path], issue.message)} (${consequence})`);
    return undefined;
  };
  if (!isObject(raw)) {
    problems.push(`${file}: expected a JSON object {"version": 1, "filters": {...}, "rollouts": {...}} (starting from an empty state)`);
    return { state: { version: 1, filters: {}, rollouts: {} }, problems };
  }
  const filters: Record<string, FilterState> = {};
  const rawFilters = raw.filters ?? {};
  if (!isObject(rawFilters)) problems.push(`${file}: filters: expected an object of filter states (known-good versions and quarantines dropped)`);
  else for (const [name, f] of Object.entries(rawFilters)) {
    const path = ["filters", name];
    if (!isObject(f)) {
      problems.push(`${issueLine(file, path, "expected an object")} (this filter's known-good versions and quarantines dropped)`);
      continue;
    }
    const quarantined: QuarantineRecord[] = [];
    if (Array.isArray(f.quarantined)) {
      f.quarantined.forEach((q, i) => {
        const ok = check(quarantineRecord, q, [...path, "quarantined", i], "this quarantine dropped: the version may be served again");
        if (ok) quarantined.push(ok as unknown as QuarantineRecord);
      });
    } else if (f.quarantined !== undefined) {
      problems.push(`${issueLine(file, [...path, "quarantined"], "expected a list")} (quarantines of this filter dropped: those versions may be served again)`);
    }
    const lastGood = salvageChain(f.lastGood, [...path, "lastGood"], check);
    filters[name] = { ...(lastGood && { lastGood }), quarantined };
  }
  const rollouts: Record<string, unknown> = {};
  const rawRollouts = raw.rollouts ?? {};
  if (!isObject(rawRollouts)) problems.push(`${file}: rollouts: expected an object (rollout progress dropped: the folder's versions start new rollouts)`);
  else for (const [name, r] of Object.entries(rawRollouts)) {
    const path = ["rollouts", name];
    if (!isObject(r)) {
      problems.push(`${issueLine(file, path, "expected an object")} (this filter's rollout progress dropped)`);
      continue;
    }
    const out: Record<string, unknown> = {};
    for (const [field, schema, consequence] of [
      ["stable", versionRef, "the stable version is forgotten: the folder's version goes to every node"],
      ["active", activeRollout, "the rollout in progress is forgotten: it starts again from its first step"],
      ["queued", versionRef, "the queued version is forgotten"],
    ] as const) {
      if (r[field] === undefined) continue;
      const ok = check(schema as z.ZodType<unknown>, r[field], [...path, field], consequence);
      if (ok !== undefined) out[field] = ok;
    }
    out.history = Array.isArray(r.history)
      ? r.history.flatMap((h, i) => {
          const ok = check(historyEntry, h, [...path, "history", i], "history entry dropped");
          return ok ? [ok] : [];
        })
      : [];
    rollouts[name] = out;
  }
  return { state: { version: 1, filters, rollouts }, problems };
}

type Check = <T>(schema: z.ZodType<T>, value: unknown, path: readonly PropertyKey[], consequence: string) => T | undefined;

/** The valid head of a known-good chain: the first invalid entry and those behind it are dropped. */
function salvageChain(raw: unknown, path: readonly PropertyKey[], check: Check): KnownGood | undefined {
  if (raw === undefined) return undefined;
  const entries: Array<Omit<KnownGood, "previous">> = [];
  let at: unknown = raw;
  let where = [...path];
  while (at !== undefined && entries.length < 64) {
    const ok = check(knownGoodEntry, at, where, "this known-good version and older ones dropped: no rollback to them");
    if (!ok) break;
    const { previous: _, ...entry } = ok as unknown as KnownGood;
    entries.push(entry);
    at = (at as Record<string, unknown>).previous;
    where = [...where, "previous"];
  }
  return entries.reduceRight<KnownGood | undefined>((previous, e) => (previous ? { ...e, previous } : e), undefined);
}
