/**
 * "What does node X receive, and why?" in one place: for each filter of the
 * served config, the version the node's snapshot group carries and every
 * reason that decided it, in the order the pipeline applies them
 * (serving-pipeline.ts): selector, health selection (quarantine fallback),
 * rollout split, re-push attempt, and what the node did with it (a NACK
 * keeps Envoy on its previous config). Served by GET /v1/nodes/<id>/explain
 * and `wasmxds explain <node-id>`.
 */
import type { ServedFilter } from "../config/filter-version";
import { describeSelector, matchesSelector } from "../vocabulary/node-selector";
import type { NodeInfo } from "../vocabulary/node-info";
import { TYPE_URLS } from "../vocabulary/type-urls";
import type { RepushAttempts, RolloutSplit } from "./policies";
import type { PublishedState } from "./publisher";

export type ExplainReason =
  /** The folder's version, served to every node outside a group. */
  | { readonly kind: "base"; readonly text: string }
  /** The node's selector leaves the filter out: it gets no filter at all. */
  | { readonly kind: "selector"; readonly selector: string; readonly text: string }
  /** The folder's version is quarantined; another is served instead. */
  | { readonly kind: "quarantine-fallback"; readonly quarantined: string; readonly serving: string; readonly how: "fallback" | "previous" | "quarantined-only"; readonly text: string }
  /** The node is in the filter's rollout: it runs the candidate. */
  | { readonly kind: "rollout"; readonly step: number; readonly currentStep: number; readonly steps: number; readonly by: "nodes" | "percent" | "selector"; readonly rolloutId: string; readonly text: string }
  /** A rollout runs and the node is not in it yet: it runs the stable version. */
  | { readonly kind: "rollout-stable"; readonly candidate: string; readonly text: string }
  /** Remote code over ECDS: the node got re-push attempt n after cache-miss NACKs. */
  | { readonly kind: "repush"; readonly attempt: number; readonly text: string }
  /** The node NACKed the response carrying this version: Envoy keeps running what it had. */
  | { readonly kind: "nack"; readonly typeUrl: string; readonly rejectedVersion: string; readonly message: string; readonly text: string };

export interface FilterExplanation {
  readonly filter: string;
  /** The version in the node's snapshot, or null when the filter is left out for this node. */
  readonly receives: { readonly plugin: string; readonly sha256: string; readonly key: string } | null;
  readonly reasons: readonly ExplainReason[];
}

export interface NodeExplanation {
  readonly node: string;
  readonly group: string;
  readonly version: string | null;
  readonly filters: readonly FilterExplanation[];
}

/** Per resource type, what the node's stream was sent and what it NACKed (XdsServer's TypeStatus fits). */
export interface StreamTypeView {
  readonly typeUrl: string;
  readonly sent?: { readonly version: string };
  readonly nack?: { readonly rejectedVersion: string; readonly message: string; readonly resourceNames: readonly string[] };
}

export interface ExplainInputs {
  readonly published: PublishedState | undefined;
  readonly rollouts: Pick<RolloutSplit, "membership">;
  readonly repush: RepushAttempts;
  readonly group: string;
  readonly types: readonly StreamTypeView[];
}

export function explainNode(node: NodeInfo, i: ExplainInputs): NodeExplanation {
  const p = i.published;
  const filters = (p?.loaded.config.filters ?? []).map((f): FilterExplanation => {
    if (f.selector && !matchesSelector(node, f.selector)) {
      const selector = describeSelector(f.selector);
      return { filter: f.name, receives: null, reasons: [{ kind: "selector", selector, text: `the filter's selector (${selector}) does not match this node, so it gets no ${f.name} filter` }] };
    }
    const reasons: ExplainReason[] = [];
    const base = p!.served.get(f.name);
    const canary = p!.canaries.get(f.name);
    const selection = p!.selections.get(f.name);
    if (selection && selection.reason !== "candidate" && base) {
      const how = selection.reason;
      const q = plugin(f.name, selection.candidate);
      const text =
        how === "fallback"
          ? `${q} (the folder's version) is quarantined; serving the last known-good ${plugin(f.name, base)} instead`
          : how === "previous"
            ? `${q} (the folder's version) is quarantined and no known-good version is left; keeping ${plugin(f.name, base)}, served before`
            : `${q} (the folder's version) is quarantined and there is nothing else to serve; it is served anyway`;
      reasons.push({ kind: "quarantine-fallback", quarantined: selection.candidate.module.sha256, serving: base.module.sha256, how, text });
    }
    const m = canary ? i.rollouts.membership(f, node) : undefined;
    let v: ServedFilter | undefined = base;
    if (canary && m) {
      v = canary;
      const by = m.by === "percent" ? "its hash falls in the step's share" : m.by === "selector" ? "it matches the step's selector" : "it was picked by hash when the step began";
      reasons.push({
        kind: "rollout",
        step: m.step + 1,
        currentStep: m.currentStep + 1,
        steps: m.steps,
        by: m.by,
        rolloutId: m.rolloutId,
        text: `in the rollout of ${plugin(f.name, canary)} since step ${m.step + 1} (${m.by}: ${by}; ${m.detail}); the rollout is at step ${m.currentStep + 1} of ${m.steps}`,
      });
    } else if (canary && base) {
      reasons.push({ kind: "rollout-stable", candidate: canary.module.sha256, text: `a rollout of ${plugin(f.name, canary)} is running and this node is not in it yet: it runs the stable ${plugin(f.name, base)}` });
    } else if (reasons.length === 0 && base) {
      reasons.push({ kind: "base", text: `${plugin(f.name, base)} is the version the config folder names, served to every node` });
    }
    const attempt = i.repush.attemptOf(node.id, f.name);
    if (attempt > 0) {
      reasons.push({ kind: "repush", attempt, text: `re-push attempt ${attempt}: the node NACKed the remote code as a cache miss, and was sent the config again (the URI's ?repush=${attempt}) once the module was served` });
    }
    const typeUrl = f.discovery === "ecds" ? TYPE_URLS.extensionConfig : TYPE_URLS.listener;
    const t = i.types.find((x) => x.typeUrl === typeUrl);
    if (t?.nack && t.sent && t.nack.rejectedVersion === t.sent.version && (typeUrl !== TYPE_URLS.extensionConfig || t.nack.resourceNames.length === 0 || t.nack.resourceNames.includes(f.name))) {
      reasons.push({
        kind: "nack",
        typeUrl,
        rejectedVersion: t.nack.rejectedVersion,
        message: t.nack.message,
        text: `the node NACKed version ${t.nack.rejectedVersion} that carries it, so Envoy keeps running its previous config: ${t.nack.message}`,
      });
    }
    return { filter: f.name, receives: v ? { plugin: plugin(f.name, v), sha256: v.module.sha256, key: v.key } : null, reasons };
  });
  return { node: node.id, group: i.group, version: p?.snapshot.version ?? null, filters };
}

function plugin(name: string, v: ServedFilter): string {
  return `${name}@${v.module.sha256.slice(0, 8)}`;
}
