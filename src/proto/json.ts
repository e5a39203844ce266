/**
 * Strict proto3 JSON (as in Envoy's YAML configs) to the plain objects
 * encodeMessage takes. Unlike protobufjs's fromObject it rejects unknown
 * fields and enum names with the path of the problem, and it understands the
 * JSON forms of the well-known types: Any with "@type", Duration strings
 * ("1.5s"), Struct, wrappers, Timestamp. Both snake_case and lowerCamelCase
 * field names are accepted, as in Envoy.
 */
import { protoTimeFromMs } from "./time";
import protobuf from "protobufjs";
import { encodeMessage, messageType } from "./registry";

type Json = unknown;

export class ProtoJsonError extends Error {}

export function fromProtoJson(fullName: string, json: Json): Record<string, unknown> {
  const type = messageType(fullName);
  const out = convertMessage(type, json, "");
  if (out === null || typeof out !== "object") throw new ProtoJsonError(`(root): expected an object for ${fullName}`);
  return out as Record<string, unknown>;
}

const fieldIndex = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function fieldsOf(type: protobuf.Type): Map<string, protobuf.Field> {
  let idx = fieldIndex.get(type);
  if (!idx) {
    idx = new Map();
    for (const f of type.fieldsArray) {
      idx.set(f.name, f);
      idx.set(f.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), f);
    }
    fieldIndex.set(type, idx);
  }
  return idx;
}

function where(path: string): string {
  return path || "(root)";
}

function convertMessage(type: protobuf.Type, json: Json, path: string): unknown {
  const name = type.fullName.slice(1);
  const wkt = WELL_KNOWN[name];
  if (wkt) return wkt(json, path);
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ProtoJsonError(`${where(path)}: expected an object (${name}), got ${describe(json)}`);
  }
  const out: Record<string, unknown> = {};
  const fields = fieldsOf(type);
  for (const [key, value] of Object.entries(json)) {
    const here = path ? `${path}.${key}` : key;
    const field = fields.get(key);
    if (!field) throw new ProtoJsonError(`${here}: unknown field of ${name}`);
    if (value === null) continue;
    field.resolve();
    if (field.map) {
      if (typeof value !== "object" || Array.isArray(value)) throw new ProtoJsonError(`${here}: expected a map, got ${describe(value)}`);
      const m: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) m[k] = convertValue(field, v, `${here}.${k}`);
      out[field.name] = m;
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new ProtoJsonError(`${here}: expected a list, got ${describe(value)}`);
      out[field.name] = value.map((v, i) => convertValue(field, v, `${here}[${i}]`));
    } else {
      out[field.name] = convertValue(field, value, here);
    }
  }
  return out;
}

function convertValue(field: protobuf.Field, value: Json, path: string): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return convertMessage(rt, value, path);
  if (rt instanceof protobuf.Enum) {
    if (typeof value === "string" && value in rt.values) return value;
    if (typeof value === "number" && Number.isInteger(value)) return value;
    throw new ProtoJsonError(`${path}: expected one of ${Object.keys(rt.values).join(", ")}, got ${describe(value)}`);
  }
  switch (field.type) {
    case "string":
      if (typeof value === "string") return value;
      break;
    case "bool":
      if (typeof value === "boolean") return value;
      break;
    case "bytes":
      if (typeof value === "string") return Buffer.from(value, "base64");
      break;
    case "double":
    case "float":
      if (typeof value === "number") return value;
      if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
      break;
    default:
      // Integer types; 64-bit ones may be strings in proto3 JSON.
      if (typeof value === "number" && Number.isInteger(value)) return value;
      if (typeof value === "string" && /^-?\d+$/.test(value)) return value;
  }
  throw new ProtoJsonError(`${path}: expected ${field.type}, got ${describe(value)}`);
}

function describe(v: Json): string {
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`;
}

const WRAPPERS = [
  "DoubleValue",
  "FloatValue",
  "Int64Value",
  "UInt64Value",
  "Int32Value",
  "UInt32Value",
  "BoolValue",
  "StringValue",
  "BytesValue",
];

const WELL_KNOWN: Record<string, (json: Json, path: string) => unknown> = {
  "google.protobuf.Any": convertAny,
  "google.protobuf.Duration": (json, path) => parseDuration(json, path),
  "google.protobuf.Timestamp": (json, path) => {
    const ms = typeof json === "string" ? Date.parse(json) : Number.NaN;
    if (Number.isNaN(ms)) throw new ProtoJsonError(`${path}: expected an RFC 3339 timestamp, got ${describe(json)}`);
    return protoTimeFromMs(ms);
  },
  "google.protobuf.Struct": (json, path) => {
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw new ProtoJsonError(`${path}: expected an object`);
    return jsonToStruct(json as Record<string, unknown>);
  },
  "google.protobuf.Value": (json) => jsonToValue(json),
  "google.protobuf.ListValue": (json, path) => {
    if (!Array.isArray(json)) throw new ProtoJsonError(`${path}: expected a list`);
    return { values: json.map(jsonToValue) };
  },
  "google.protobuf.Empty": (json, path) => {
    if (json === null || typeof json !== "object" || Object.keys(json).length > 0) throw new ProtoJsonError(`${path}: expected {}`);
    return {};
  },
  "google.protobuf.FieldMask": (json, path) => {
    if (typeof json !== "string") throw new ProtoJsonError(`${path}: expected a comma-separated string`);
    return { paths: json.split(",").filter(Boolean) };
  },
  ...Object.fromEntries(
    WRAPPERS.map((w) => [
      `google.protobuf.${w}`,
      (json: Json, path: string) => {
        const t = messageType(`google.protobuf.${w}`);
        const valueField = t.fields.value!;
        return { value: convertValue(valueField, json, path) };
      },
    ]),
  ),
};

function convertAny(json: Json, path: string): unknown {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new ProtoJsonError(`${path}: expected an Any object with "@type"`);
  const { "@type": typeUrl, ...rest } = json as Record<string, unknown>;
  if (typeof typeUrl !== "string" || !typeUrl.includes("/")) {
    throw new ProtoJsonError(`${path}: an Any needs "@type": "type.googleapis.com/<message>"`);
  }
  const inner = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
  let innerType: protobuf.Type;
  try {
    innerType = messageType(inner);
  } catch {
    throw new ProtoJsonError(`${path}.@type: unknown message type ${inner}`);
  }
  // Well-known types carry their JSON form in "value".
  const payload = WELL_KNOWN[inner] ? rest.value : rest;
  const converted = convertMessage(innerType, payload, path) as Record<string, unknown>;
  return { type_url: typeUrl, value: encodeMessage(inner, converted) };
}

function parseDuration(json: Json, path: string): { seconds: number; nanos: number } {
  const m = typeof json === "string" ? /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(json) : null;
  if (!m) throw new ProtoJsonError(`${path}: expected a duration like "1s" or "0.25s", got ${describe(json)}`);
  const sign = m[1] === "-" ? -1 : 1;
  return { seconds: sign * Number(m[2]), nanos: sign * Number((m[3] ?? "").padEnd(9, "0")) };
}

/** Plain JSON to a google.protobuf.Struct input object. */
export function jsonToStruct(obj: Record<string, unknown>): { fields: Record<string, unknown> } {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = jsonToValue(v);
  return { fields };
}

/** Plain JSON to google.protobuf.Value (protobufjs defines Struct/Value itself, with camelCase field names). */
export function jsonToValue(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return { nullValue: "NULL_VALUE" };
  if (typeof v === "number") return { numberValue: v };
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToValue) } };
  return { structValue: jsonToStruct(v as Record<string, unknown>) };
}
