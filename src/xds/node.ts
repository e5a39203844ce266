/**
 * Reads the node an Envoy (or gRPC client) identifies itself as from the
 * xDS Node message into the NodeInfo the rest of the control plane selects
 * on (vocabulary/node-info.ts).
 */
import type { Node__Output } from "../generated/envoy/config/core/v3/Node";
import type { Struct__Output } from "../generated/google/protobuf/Struct";
import type { Value__Output } from "../generated/google/protobuf/Value";
import type { NodeInfo } from "../vocabulary/node-info";


export function nodeInfoFrom(node: Node__Output): NodeInfo {
  const agentVersion = node.user_agent_version ?? "";
  return Object.freeze({
    id: node.id,
    cluster: node.cluster,
    locality: Object.freeze({
      region: node.locality?.region ?? "",
      zone: node.locality?.zone ?? "",
      subZone: node.locality?.sub_zone ?? "",
    }),
    metadata: Object.freeze(structToJson(node.metadata)),
    userAgent: [node.user_agent_name, agentVersion].filter(Boolean).join("/"),
  });
}

/**
 * google.protobuf.Struct (decoded) to plain JSON. protobufjs defines the
 * well-known Struct/Value types itself, with camelCase field names.
 */
export function structToJson(struct: Struct__Output | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(struct?.fields ?? {})) out[k] = valueToJson(v);
  return out;
}

function valueToJson(v: Value__Output): unknown {
  switch (v.kind) {
    case "nullValue":
      return null;
    case "numberValue":
      return v.numberValue;
    case "stringValue":
      return v.stringValue;
    case "boolValue":
      return v.boolValue;
    case "structValue":
      return structToJson(v.structValue);
    case "listValue":
      return (v.listValue?.values ?? []).map(valueToJson);
    default:
      return null;
  }
}
