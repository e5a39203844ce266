/**
 * The xDS side of a simulated Envoy bootstrapped with `api_type: DELTA_GRPC`:
 * one DeltaAggregatedResources stream, speaking as Envoy's delta mux and
 * DeltaSubscriptionState do (source/extensions/config_subscription/grpc/
 * new_grpc_mux_impl.cc, delta_subscription_state.cc; docs/ENVOY.md "Delta xDS"):
 * - per type, the names watched and the version of each resource held;
 *   a watch change sends only what changed (resource_names_subscribe /
 *   _unsubscribe, no nonce), and an unsubscribed resource is dropped at once;
 * - CDS and LDS subscribe with the legacy wildcard: an empty first request;
 * - a response is merged into what the type holds (resources added or
 *   updated if watched, removed_resources dropped) and the whole merged
 *   state is applied, as the watch map hands each watcher its resources;
 *   accepted: held, and ACKed with the response's nonce; rejected: nothing
 *   held changes, and the NACK carries the nonce and error_detail (code 13);
 * - a new stream subscribes again to every watched name, with
 *   initial_resource_versions for every resource held, so the server sends
 *   only what changed while the node was away.
 * Stream lifecycle, backoff and the order of requests and ACKs are shared
 * with the state-of-the-world client (ads-stream-client.ts).
 */
import type { DeltaDiscoveryResponse__Output } from "../../generated/envoy/service/discovery/v3/DeltaDiscoveryResponse";
import type { Any__Output } from "../../generated/google/protobuf/Any";
import { decodeMessage, encodeMessage } from "../../proto/registry";
import { AdsStreamClient, type Interest, NACK_CODE, normalizeInterest, sameInterest } from "./ads-stream-client";

export const DELTA_ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";
const REQUEST = "envoy.service.discovery.v3.DeltaDiscoveryRequest";
const RESPONSE = "envoy.service.discovery.v3.DeltaDiscoveryResponse";

interface Held {
  readonly version: string;
  readonly resource: Any__Output;
}

interface DeltaSubscription {
  names: Interest;
  /** Resource name -> what the node holds. */
  held: Map<string, Held>;
  /** system_version_info of the last accepted response. */
  version: string;
  added: Set<string>;
  removed: Set<string>;
  /** A request for this type went out on the current stream. */
  sent: boolean;
}

export class DeltaXdsClient extends AdsStreamClient {
  protected readonly path = DELTA_ADS_PATH;
  private readonly subs = new Map<string, DeltaSubscription>();

  /** Accepted system_version_info per type URL ("" before the first ACK). */
  versions(): ReadonlyMap<string, string> {
    return new Map([...this.subs].map(([t, s]) => [t, s.version]));
  }

  /** What the node watches of a type: "*" (wildcard, CDS/LDS) or resource names. */
  interest(typeUrl: string, names: Interest): void {
    const next = normalizeInterest(names);
    let sub = this.subs.get(typeUrl);
    if (sub && sameInterest(sub.names, next)) return;
    if (!sub) {
      if (next !== "*" && next.length === 0) return;
      sub = { names: next, held: new Map(), version: "", added: new Set(next === "*" ? [] : next), removed: new Set(), sent: false };
      this.subs.set(typeUrl, sub);
    } else {
      const before = new Set(sub.names === "*" ? [] : sub.names);
      const after = new Set(next === "*" ? [] : next);
      for (const n of after) if (!before.has(n)) this.note(sub, n, true);
      for (const n of before) if (!after.has(n)) this.note(sub, n, false);
      sub.names = next;
    }
    this.subscriptionChanged(typeUrl);
  }

  protected override resubscribe(): void {
    for (const [typeUrl, sub] of this.subs) {
      sub.sent = false;
      sub.added.clear();
      sub.removed.clear();
      this.send(typeUrl);
    }
  }

  protected override sendPending(typeUrl: string): void {
    const sub = this.subs.get(typeUrl);
    if (sub && (!sub.sent || sub.added.size > 0 || sub.removed.size > 0)) this.send(typeUrl);
  }

  protected override onResponseBytes(bytes: Buffer): void {
    const resp = decodeMessage<DeltaDiscoveryResponse__Output>(RESPONSE, bytes);
    this.responded();
    this.o.callbacks.onResponse?.({ typeUrl: resp.type_url, version: resp.system_version_info, nonce: resp.nonce, resources: resp.resources.length });
    const sub = this.subs.get(resp.type_url);
    // Envoy drops a response for a type it has no subscription for.
    if (!sub) return;
    const merged = new Map(sub.held);
    const updated: Any__Output[] = [];
    for (const r of resp.resources) {
      if (r.resource && (sub.names === "*" || sub.names.includes(r.name))) {
        merged.set(r.name, { version: r.version, resource: r.resource });
        updated.push(r.resource);
      }
    }
    for (const n of resp.removed_resources) merged.delete(n);
    const sorted = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.applyWith(
      resp.type_url,
      () => this.o.callbacks.apply(resp.type_url, sorted.map(([, h]) => h.resource), resp.system_version_info, { updated, removed: resp.removed_resources }),
      (result) => {
        if (result.ok) {
          sub.held = new Map(sorted);
          sub.version = resp.system_version_info;
          this.send(resp.type_url, resp.nonce);
        } else {
          this.send(resp.type_url, resp.nonce, { code: NACK_CODE, message: result.message });
        }
      },
    );
  }

  /** Records a name added to or removed from the watch; a removed resource is forgotten at once (Envoy drops it). */
  private note(sub: DeltaSubscription, name: string, add: boolean): void {
    if (add) {
      sub.removed.delete(name);
      sub.added.add(name);
    } else {
      sub.added.delete(name);
      sub.removed.add(name);
      sub.held.delete(name);
    }
  }

  private send(typeUrl: string, nonce = "", errorDetail?: { code: number; message: string }): void {
    const sub = this.subs.get(typeUrl);
    if (!sub || !this.call) return;
    const first = !sub.sent;
    sub.sent = true;
    // The first request of a stream states the whole interest (legacy wildcard: nothing) and what is held.
    const subscribe = first ? (sub.names === "*" ? [] : [...sub.names]) : [...sub.added];
    const unsubscribe = first ? [] : [...sub.removed];
    const initialVersions = first ? Object.fromEntries([...sub.held].map(([n, h]) => [n, h.version])) : {};
    sub.added.clear();
    sub.removed.clear();
    const withNode = this.write((node) =>
      encodeMessage(REQUEST, {
        type_url: typeUrl,
        resource_names_subscribe: subscribe,
        resource_names_unsubscribe: unsubscribe,
        initial_resource_versions: initialVersions,
        response_nonce: nonce,
        ...(node && { node: this.o.node }),
        ...(errorDetail && { error_detail: errorDetail }),
      }),
    );
    this.o.callbacks.onRequest?.({
      typeUrl,
      resourceNames: sub.names === "*" ? [] : sub.names,
      versionInfo: sub.version,
      responseNonce: nonce,
      withNode: withNode === true,
      ...(errorDetail && { errorDetail }),
      stream: this.streamNo,
      subscribe,
      unsubscribe,
      initialVersions,
    });
  }
}
