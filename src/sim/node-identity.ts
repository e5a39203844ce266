/**
 * Who a simulated node says it is: the envoy.config.core.v3.Node sent on the
 * first DiscoveryRequest of every ADS stream and in the first
 * StreamMetricsMessage (docs/ENVOY.md "Minimal bootstrap shape" and "Getting
 * stats out of Envoy"). id, cluster, locality and metadata are what control
 * planes (and wasmxds rollouts) select nodes by.
 */

export interface NodeLocality {
  readonly region?: string;
  readonly zone?: string;
  readonly subZone?: string;
}

export interface NodeIdentity {
  readonly id: string;
  readonly cluster: string;
  readonly locality?: NodeLocality;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** What the node reports as user agent: Envoy sends "envoy" plus its version. */
export const SIM_USER_AGENT = { name: "envoy", version: "1.33.0-wasmxds-sim" } as const;

type StructValue =
  | { nullValue: "NULL_VALUE" }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: { fields: Record<string, StructValue> } }
  | { listValue: { values: StructValue[] } };

/** JSON to google.protobuf.Value (protobufjs's well-known types use camelCase). */
function toValue(v: unknown): StructValue {
  if (v === null || v === undefined) return { nullValue: "NULL_VALUE" };
  if (typeof v === "number") return { numberValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  if (typeof v === "string") return { stringValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  if (typeof v === "object") return { structValue: toStruct(v as Record<string, unknown>) };
  return { stringValue: String(v) };
}

export function toStruct(obj: Readonly<Record<string, unknown>>): { fields: Record<string, StructValue> } {
  const fields: Record<string, StructValue> = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = toValue(v);
  return { fields };
}

/** The Node message as a plain object for encodeMessage (snake_case fields). */
export function nodeMessage(node: NodeIdentity): Record<string, unknown> {
  return {
    id: node.id,
    cluster: node.cluster,
    ...(node.locality && {
      locality: { region: node.locality.region ?? "", zone: node.locality.zone ?? "", sub_zone: node.locality.subZone ?? "" },
    }),
    ...(node.metadata && Object.keys(node.metadata).length > 0 && { metadata: toStruct(node.metadata) }),
    user_agent_name: SIM_USER_AGENT.name,
    user_agent_version: SIM_USER_AGENT.version,
  };
}
