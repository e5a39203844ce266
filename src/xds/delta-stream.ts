/**
 * One incremental xDS stream (ADS DeltaAggregatedResources), free of any
 * transport like the state-of-the-world one: both share stream-base.ts
 * (node, nonces, ACK/NACK recording into the same NACK records and events
 * that feed health and rollback, ADS ordering, limits, backpressure) and
 * serve the same snapshot cache; this file holds only what delta does
 * differently (xDS protocol docs, "Incremental xDS"; discovery.proto
 * DeltaDiscoveryRequest/DeltaDiscoveryResponse; docs/ENVOY.md "Delta xDS"):
 *
 * - a response carries only the resources whose content version the client
 *   does not hold, and removed_resources for names it holds that left the
 *   snapshot or its subscription (resource-versions.ts). Names never sent
 *   (subscribed, not existing yet) are not reported removed;
 * - system_version_info is the state-of-the-world version of the same
 *   subscription, so both protocols name a node's config alike; a delta
 *   ACK or NACK carries no version, so an ACK acknowledges what its nonce
 *   sent, and a NACK keeps the version last ACKed;
 * - initial_resource_versions (first request for a type on a stream, i.e.
 *   a reconnect): resources held at their current version are not sent
 *   again, held ones that no longer exist are reported removed;
 * - a request answering an older nonce is a stale ACK/NACK, but its
 *   subscription changes still apply: delta requests are differences, and
 *   dropping one would lose it for the life of the stream (unlike state of
 *   the world, where the next request repeats the whole subscription);
 * - a NACKed response counts as held: it is not sent again until its
 *   content changes (the rollback's new version), so there is no resend loop;
 * - the first answer to a wildcard subscription of a client holding nothing
 *   is sent even when empty, so the client's initial fetch completes, as the
 *   state-of-the-world empty response does;
 * - backpressure: a held-back type is decided again from the newest snapshot
 *   when the stream drains, against what the client holds, so nothing sent
 *   is stale and no intermediate version is needed.
 */
import type { Snapshot } from "../cache/snapshot";
import type { SnapshotCache } from "../cache/snapshot-cache";
import type { DeltaDiscoveryRequest__Output } from "../generated/envoy/service/discovery/v3/DeltaDiscoveryRequest";
import type { Logger } from "../logger";
import { deltaResponse } from "./delta-response";
import { nextSubscription } from "./delta-subscriptions";
import { DeltaTypeState } from "./delta-type-state";
import type { XdsEvents } from "./events";
import { DEFAULT_LIMITS, type StreamLimits } from "./limits";
import { diffResources } from "./resource-versions";
import { nextNonce, withNonce } from "./shared-response";
import { type StreamContext, type StreamTransport, XdsStream } from "./stream-base";

export class DeltaStream extends XdsStream<DeltaTypeState> {
  readonly protocol = "delta" as const;

  constructor(
    cache: SnapshotCache,
    transport: StreamTransport,
    events: XdsEvents,
    logger: Logger,
    limits: Partial<StreamLimits> = DEFAULT_LIMITS,
    context: StreamContext = {},
  ) {
    super(cache, transport, events, logger, limits, context);
  }

  onRequest(req: DeltaDiscoveryRequest__Output): void {
    if (this.closed) return;
    this.statusCache = undefined;
    if (!this.identify(req.node)) return;
    const typeUrl = req.type_url;
    if (!this.acceptsType(typeUrl)) return;
    if (!this.withinLimits(typeUrl, req)) return;
    const { state, first } = this.stateOf(typeUrl, () => new DeltaTypeState());
    this.settle(state, typeUrl, req.response_nonce, req.error_detail, undefined);
    const next = nextSubscription(state, typeUrl, { subscribe: req.resource_names_subscribe, unsubscribe: req.resource_names_unsubscribe }, first);
    if (next.names.size > this.limits.maxResourceNames) {
      this.namesWithinLimits(typeUrl, "the subscription", [], next.names.size);
      return;
    }
    if (next.changed) {
      state.setSubscription(next.wildcard, next.names);
      state.legacyWildcard = next.legacy;
      this.subscribed();
    }
    if (first) {
      // A reconnect: what the client holds. Entries are bounded by withinLimits.
      for (const [name, version] of Object.entries(req.initial_resource_versions)) state.held.set(name, version);
    }
    if (next.changed || first) this.maybeSend(typeUrl, state);
  }

  private withinLimits(typeUrl: string, req: DeltaDiscoveryRequest__Output): boolean {
    if (!this.namesWithinLimits(typeUrl, "resource_names_subscribe", req.resource_names_subscribe)) return false;
    if (!this.namesWithinLimits(typeUrl, "resource_names_unsubscribe", req.resource_names_unsubscribe)) return false;
    const initial = Object.entries(req.initial_resource_versions);
    if (!this.namesWithinLimits(typeUrl, "initial_resource_versions", initial.map(([n]) => n))) return false;
    const longest = initial.reduce((a, [, v]) => (v.length > a.length ? v : a), "");
    return this.stringsWithinLimits(typeUrl, [
      ["response_nonce", req.response_nonce],
      ["a version in initial_resource_versions", longest],
    ]);
  }

  protected override maybeSend(typeUrl: string, state: DeltaTypeState, given?: Snapshot): void {
    const snapshot = this.snapshotFor(given);
    if (!snapshot) return;
    const subscription = state.subscription;
    const type = snapshot.type(typeUrl);
    // Unchanged type and subscription, and `held` unchanged since (only this method changes it after the first request).
    if (state.decided?.typeVersion === type.version && state.decided.subscription === subscription) return;
    if (!state.wildcard && state.names.size === 0 && state.held.size === 0) return;
    const diff = diffResources(type, state.wildcard, state.names, state.held);
    const now = this.clock.now();
    const nothing = diff.updated.length === 0 && diff.removed.length === 0;
    if (nothing && (state.sent || !state.wildcard || state.held.size > 0)) {
      if (!state.sent && state.held.size > 0) {
        // Reconnect: the node already holds exactly this selection.
        state.sent = { version: diff.version, nonce: "", subscription, resourceNames: [], at: now };
        state.acked = { version: diff.version, at: now };
        // No ACK event says so: tell whoever mirrors the status (workers/).
        this.subscribed();
      }
      if (state.sent) state.decided = { typeVersion: type.version, subscription };
      return;
    }
    if (this.holdBack(state)) return;
    const shared = deltaResponse(type, diff);
    let { nonce, bytes } = shared;
    if (shared.seq > state.lastSharedSeq) {
      state.lastSharedSeq = shared.seq;
    } else {
      nonce = nextNonce();
      bytes = withNonce(shared.body, nonce);
    }
    for (const r of diff.updated) state.held.set(r.name, r.version);
    for (const n of diff.removed) state.held.delete(n);
    state.decided = { typeVersion: type.version, subscription };
    const resourceNames = Object.freeze(diff.updated.map((r) => r.name));
    this.write(typeUrl, state, bytes, { version: diff.version, nonce, subscription, resourceNames, at: now });
  }
}
