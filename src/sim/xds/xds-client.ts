/**
 * The xDS side of a simulated Envoy: one ADS stream (state of the world) on
 * the node's gRPC channel, speaking as Envoy's GrpcMuxImpl does (xDS
 * protocol docs, "ACK/NACK and resource type instance version"; docs/ENVOY.md
 * "Minimal bootstrap shape"):
 * - node only on the first request of each stream (set_node_on_first_message_only);
 * - one subscription per type URL whose names are the union of what the
 *   node's components watch; a request is sent when that set changes;
 * - ACK: version_info = the accepted version, response_nonce = its nonce;
 *   NACK: version_info = the previously accepted version, the response's
 *   nonce, and error_detail (code 13 INTERNAL, Envoy's message);
 * - a new stream re-requests every type with its accepted version and no nonce.
 * The stream's lifecycle, reconnects and the order of requests and ACKs are
 * shared with the delta client (ads-stream-client.ts).
 */
import type { DiscoveryResponse__Output } from "../../generated/envoy/service/discovery/v3/DiscoveryResponse";
import { decodeMessage, encodeMessage } from "../../proto/registry";
import { AdsStreamClient, type Interest, NACK_CODE, normalizeInterest, sameInterest } from "./ads-stream-client";

export {
  type ApplyResult,
  NACK_CODE,
  type SentRequest,
  type XdsApi,
  type XdsClientCallbacks,
  type XdsClientOptions,
} from "./ads-stream-client";

export const ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
const REQUEST = "envoy.service.discovery.v3.DiscoveryRequest";
const RESPONSE = "envoy.service.discovery.v3.DiscoveryResponse";

interface Subscription {
  names: Interest;
  version: string;
  nonce: string;
  /** A request for this type was sent on some stream (so reconnects must resend it, even with no names). */
  started: boolean;
}

export class XdsClient extends AdsStreamClient {
  protected readonly path = ADS_PATH;
  private readonly subs = new Map<string, Subscription>();

  /** Accepted version per type URL ("" before the first ACK). */
  versions(): ReadonlyMap<string, string> {
    return new Map([...this.subs].map(([t, s]) => [t, s.version]));
  }

  /** What the node watches of a type: "*" (wildcard, CDS/LDS) or resource names. */
  interest(typeUrl: string, names: Interest): void {
    const sorted = normalizeInterest(names);
    let sub = this.subs.get(typeUrl);
    if (sub && sameInterest(sub.names, sorted)) return;
    if (!sub) {
      // No request for a type nobody watches yet (Envoy adds a type's subscription with its first watch).
      if (sorted !== "*" && sorted.length === 0) return;
      sub = { names: sorted, version: "", nonce: "", started: false };
      this.subs.set(typeUrl, sub);
    } else {
      sub.names = sorted;
    }
    this.subscriptionChanged(typeUrl);
  }

  protected override resubscribe(): void {
    for (const [typeUrl, sub] of this.subs) {
      sub.nonce = "";
      // Also types whose first watch came while the stream was down.
      if (sub.started || sub.names === "*" || sub.names.length > 0) this.send(typeUrl);
    }
  }

  protected override sendPending(typeUrl: string): void {
    this.send(typeUrl);
  }

  protected override onResponseBytes(bytes: Buffer): void {
    const resp = decodeMessage<DiscoveryResponse__Output>(RESPONSE, bytes);
    const sub = this.subs.get(resp.type_url);
    this.responded();
    this.o.callbacks.onResponse?.({ typeUrl: resp.type_url, version: resp.version_info, nonce: resp.nonce, resources: resp.resources.length });
    // Envoy ignores responses for types it does not watch (GrpcMuxImpl "Ignoring unwatched type URL").
    if (!sub) return;
    this.applyWith(
      resp.type_url,
      () => this.o.callbacks.apply(resp.type_url, resp.resources, resp.version_info),
      (result) => {
        sub.nonce = resp.nonce;
        if (result.ok) {
          sub.version = resp.version_info;
          this.send(resp.type_url);
        } else {
          this.send(resp.type_url, { code: NACK_CODE, message: result.message });
        }
      },
    );
  }

  private send(typeUrl: string, errorDetail?: { code: number; message: string }): void {
    const sub = this.subs.get(typeUrl);
    if (!sub || !this.call) return;
    sub.started = true;
    const resourceNames = sub.names === "*" ? [] : sub.names;
    const withNode = this.write((node) =>
      encodeMessage(REQUEST, {
        version_info: sub.version,
        resource_names: resourceNames,
        type_url: typeUrl,
        response_nonce: sub.nonce,
        ...(node && { node: this.o.node }),
        ...(errorDetail && { error_detail: errorDetail }),
      }),
    );
    this.o.callbacks.onRequest?.({
      typeUrl,
      resourceNames,
      versionInfo: sub.version,
      responseNonce: sub.nonce,
      withNode: withNode === true,
      ...(errorDetail && { errorDetail }),
      stream: this.streamNo,
    });
  }
}
