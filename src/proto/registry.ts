/**
 * The one place .proto files are loaded. protobufjs parses the vendored
 * protos in protos/ once per process (about 150 ms); everything else asks
 * this module for message types, encoders and decoders.
 *
 * Field names are kept as in the .proto files (snake_case), matching Envoy's
 * documentation and the generated types in src/generated/.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { PACKAGE_ROOT } from "../package-root";

/** The vendored protos, beside package.json (found from src/ and from the bundled dist/ alike). */
export const PROTO_DIR = join(PACKAGE_ROOT, "protos");

/** Root files; their imports are loaded transitively. */
const ROOT_FILES = [
  "envoy/service/discovery/v3/ads.proto",
  "envoy/service/extension/v3/config_discovery.proto",
  "envoy/service/metrics/v3/metrics_service.proto",
  "envoy/service/accesslog/v3/als.proto",
  "envoy/config/bootstrap/v3/bootstrap.proto",
  "envoy/config/listener/v3/listener.proto",
  "envoy/config/route/v3/route.proto",
  "envoy/config/cluster/v3/cluster.proto",
  "envoy/config/endpoint/v3/endpoint.proto",
  "envoy/config/metrics/v3/metrics_service.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/filters/http/wasm/v3/wasm.proto",
  "envoy/extensions/filters/network/wasm/v3/wasm.proto",
  "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
  "envoy/extensions/access_loggers/grpc/v3/als.proto",
  "envoy/extensions/transport_sockets/tls/v3/tls.proto",
];

let cached: protobuf.Root | undefined;

/** The loaded proto root (loaded on first use, then shared). */
export function protoRoot(): protobuf.Root {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    const local = join(PROTO_DIR, target);
    // protobufjs bundles the well-known types; use them unless vendored.
    if (!existsSync(local) && target in protobuf.common) return target;
    return local;
  };
  root.loadSync(ROOT_FILES, { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}

const typeCache = new Map<string, protobuf.Type>();

/** Looks up a message type by its full name, e.g. `envoy.config.listener.v3.Listener`. */
export function messageType(fullName: string): protobuf.Type {
  let t = typeCache.get(fullName);
  if (!t) {
    t = protoRoot().lookupType(fullName);
    typeCache.set(fullName, t);
  }
  return t;
}

/** The type URL of a message, as used in google.protobuf.Any. */
export function typeUrlOf(fullName: string): string {
  return `type.googleapis.com/${fullName}`;
}

/** The full message name in a type URL (everything after the last '/'). */
export function messageNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
}

/**
 * Encodes a plain object (snake_case fields, enums as names, bytes as Buffer)
 * as the given message. Unknown enum names and wrong shapes throw.
 */
export function encodeMessage(fullName: string, value: object): Buffer {
  const type = messageType(fullName);
  // protobufjs's fromObject drops unknown fields and enum names silently;
  // check the shape first so a typo is an error, not a missing setting.
  const problem = shapeProblem(type, value, "");
  if (problem) throw new TypeError(`${fullName}: ${problem}`);
  const message = type.fromObject(value);
  const invalid = type.verify(message);
  if (invalid) throw new TypeError(`${fullName}: ${invalid}`);
  return Buffer.from(type.encode(message).finish());
}

/** The first unknown field or enum name in `value`, as `path: problem`. */
function shapeProblem(type: protobuf.Type, value: unknown, path: string): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Uint8Array) {
    return `${path || "(root)"}: expected an object for ${type.fullName.slice(1)}`;
  }
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const field = type.fields[key];
    const here = path ? `${path}.${key}` : key;
    if (!field) {
      if (type.oneofs?.[key]) continue; // virtual oneof discriminator from decode
      return `${here}: unknown field`;
    }
    const items = field.repeated && Array.isArray(v) ? v.map((x, i) => [x, `${here}[${i}]`] as const) : [[v, here] as const];
    if (field.map) continue;
    for (const [item, p] of items) {
      const rt = field.resolvedType;
      if (rt instanceof protobuf.Enum) {
        if (typeof item === "string" && !(item in rt.values)) return `${p}: unknown enum value "${item}" for ${rt.name}`;
      } else if (rt instanceof protobuf.Type && !rt.fullName.startsWith(".google.protobuf.")) {
        const inner = shapeProblem(rt, item, p);
        if (inner) return inner;
      }
    }
  }
  return undefined;
}

/** Options used for every decode: the shape of the generated `__Output` types. */
export const DECODE_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

/** Decodes bytes as the given message into a plain object (`__Output` shape). */
export function decodeMessage<T = unknown>(fullName: string, bytes: Uint8Array): T {
  const type = messageType(fullName);
  return type.toObject(type.decode(bytes), DECODE_OPTIONS) as T;
}

/** A google.protobuf.Any holding `value` encoded as `fullName`. */
export function packAny(fullName: string, value: object): { type_url: string; value: Buffer } {
  return { type_url: typeUrlOf(fullName), value: encodeMessage(fullName, value) };
}

/** Decodes the payload of an Any (type taken from its type_url). */
export function unpackAny<T = unknown>(any: { type_url: string; value: Uint8Array }): T {
  return decodeMessage<T>(messageNameOf(any.type_url), any.value);
}
