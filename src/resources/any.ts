/** google.protobuf.Any values for the builders, keyed by type URL. */
import { messageNameOf, packAny } from "../proto/registry";
import { EXTENSION_TYPE_URLS } from "../vocabulary/type-urls";

export interface PackedAny {
  type_url: string;
  value: Buffer;
}

/** `value` encoded as the message named by `typeUrl`, wrapped in an Any. */
export function anyOf(typeUrl: string, value: object): PackedAny {
  return packAny(messageNameOf(typeUrl), value);
}

/**
 * A google.protobuf.StringValue holding `text`: Envoy hands a StringValue to
 * the module unwrapped (docs/ENVOY.md "Wasm filter configuration"), so the
 * module reads exactly the text the user wrote.
 */
export function stringValueAny(text: string): PackedAny {
  return anyOf(EXTENSION_TYPE_URLS.stringValue, { value: text });
}
