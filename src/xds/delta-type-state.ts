/**
 * What a delta stream holds per type beyond what both protocols hold
 * (type-state.ts): the version of each resource the client holds, as far
 * as the server knows. Incremental xDS sends the difference between the
 * subscription's resources in the snapshot and this map, so the map is the
 * protocol's state: set from initial_resource_versions on the stream's first
 * request for the type (a reconnect), then by every response sent. A NACKed
 * response still counts as sent: what it carried is not sent again until
 * its content changes (no resend loop, as in state of the world).
 * Bounded: entries come from the snapshot or from one initial request
 * (maxResourceNames).
 */
import { TypeState } from "./type-state";

export class DeltaTypeState extends TypeState {
  /** Resource name -> the version the client holds (sent to it, or declared on reconnect). */
  readonly held = new Map<string, string>();
  /** Whether wildcard came from an empty first request rather than an explicit "*" (for status only). */
  legacyWildcard = false;
  /** The type version and subscription last decided on: the same pair (and `held` unchanged since) decides the same. */
  decided: { readonly typeVersion: string; readonly subscription: number } | undefined;
}
