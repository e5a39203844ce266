/**
 * How a DeltaDiscoveryRequest changes a type's subscription (xDS protocol,
 * "Incremental xDS" and "How the client specifies what resources to
 * return"; Envoy source/extensions/config_subscription/grpc/
 * delta_subscription_state.cc):
 * - resource_names_subscribe adds names, resource_names_unsubscribe removes
 *   them; "*" in either turns the wildcard on or off (explicit wildcard);
 * - legacy wildcard: for LDS and CDS, a first request subscribing to nothing
 *   means every resource. Envoy then keeps "*" among the names it wants
 *   (isInitialRequestForLegacyWildcard) and later only adds names to it, so
 *   the server treats it exactly as an explicit "*": it lasts until "*" is
 *   unsubscribed;
 * - a request may both subscribe and unsubscribe a name: Envoy sends a name
 *   in one list only, so unsubscribe is applied last (the client's latest
 *   word).
 * The total of names held stays within maxResourceNames: delta requests add
 * up, so a limit per request alone would not bound it.
 */
import { WILDCARD_TYPES } from "../vocabulary/type-urls";
import type { DeltaTypeState } from "./delta-type-state";

export interface SubscriptionChange {
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
}

/** The subscription after a request, without applying it: names (without "*") and wildcard. */
export function nextSubscription(
  state: DeltaTypeState,
  typeUrl: string,
  change: SubscriptionChange,
  first: boolean,
): { wildcard: boolean; legacy: boolean; names: ReadonlySet<string>; changed: boolean } {
  // Most requests are ACKs that change nothing: no copy of the names.
  if (!first && change.subscribe.length === 0 && change.unsubscribe.length === 0) {
    return { wildcard: state.wildcard, legacy: state.legacyWildcard, names: state.names, changed: false };
  }
  const legacy = first && change.subscribe.length === 0 && WILDCARD_TYPES.has(typeUrl);
  let wildcard = state.wildcard || legacy;
  const names = new Set(state.names);
  let changed = first;
  for (const n of change.subscribe) {
    if (n === "*") {
      changed ||= !wildcard;
      wildcard = true;
    } else if (!names.has(n)) {
      names.add(n);
      changed = true;
    }
  }
  for (const n of change.unsubscribe) {
    if (n === "*") {
      changed ||= wildcard;
      wildcard = false;
    } else if (names.delete(n)) {
      changed = true;
    }
  }
  return { wildcard, legacy: legacy || (state.legacyWildcard && wildcard), names, changed };
}
