/**
 * Build resources, encode each the way the cache does
 * (makeResource) and decode it back, so assertions see exactly the bytes
 * Envoy would receive.
 */
import { makeResource } from "../../src/cache/resource";
import { parseConfig } from "../../src/config/parse";
import type { Cluster__Output } from "../../src/generated/envoy/config/cluster/v3/Cluster";
import type { TypedExtensionConfig__Output } from "../../src/generated/envoy/config/core/v3/TypedExtensionConfig";
import type { ClusterLoadAssignment__Output } from "../../src/generated/envoy/config/endpoint/v3/ClusterLoadAssignment";
import type { Listener__Output } from "../../src/generated/envoy/config/listener/v3/Listener";
import type { RouteConfiguration__Output } from "../../src/generated/envoy/config/route/v3/RouteConfiguration";
import type { Wasm__Output } from "../../src/generated/envoy/extensions/filters/http/wasm/v3/Wasm";
import type { PluginConfig__Output } from "../../src/generated/envoy/extensions/wasm/v3/PluginConfig";
import type { Any__Output } from "../../src/generated/google/protobuf/Any";
import type { StringValue__Output } from "../../src/generated/google/protobuf/StringValue";
import { decodeMessage, messageNameOf, unpackAny } from "../../src/proto/registry";
import { type BuildInput, buildResources } from "../../src/resources/build";
import { TYPE_URLS, type TypeUrl } from "../../src/vocabulary/type-urls";
import { sha256Hex } from "../../src/vocabulary/sha256";

export interface Decoded {
  readonly clusters: Map<string, Cluster__Output>;
  readonly endpoints: Map<string, ClusterLoadAssignment__Output>;
  readonly extensions: Map<string, TypedExtensionConfig__Output>;
  readonly listeners: Map<string, Listener__Output>;
  readonly routes: Map<string, RouteConfiguration__Output>;
  /** Resource versions by `typeUrl name`. */
  readonly versions: Map<string, string>;
}

export const MODULE_SERVER = { host: "127.0.0.1", port: 18002 } as const;

/** Fake module bytes of a given size (the builders never look inside). */
export function fakeModule(seed: string, size = 64): { sha256: string; bytes: Uint8Array } {
  const bytes = Buffer.alloc(size, seed);
  return { sha256: sha256Hex(bytes), bytes };
}

function decodeAll<T>(input: BuildInput, typeUrl: TypeUrl, versions: Map<string, string>): Map<string, T> {
  const out = new Map<string, T>();
  for (const r of buildResources(input)[typeUrl]) {
    const resource = makeResource(typeUrl, r);
    versions.set(`${typeUrl} ${r.name}`, resource.version);
    out.set(r.name, decodeMessage<T>(messageNameOf(typeUrl), resource.bytes));
  }
  return out;
}

export function decode(input: BuildInput): Decoded {
  const versions = new Map<string, string>();
  return {
    clusters: decodeAll(input, TYPE_URLS.cluster, versions),
    endpoints: decodeAll(input, TYPE_URLS.endpoint, versions),
    extensions: decodeAll(input, TYPE_URLS.extensionConfig, versions),
    listeners: decodeAll(input, TYPE_URLS.listener, versions),
    routes: decodeAll(input, TYPE_URLS.route, versions),
    versions,
  };
}

/** Parses YAML and decodes the resources built from it. */
export function decodeYaml(
  yaml: string,
  modules: ReadonlyMap<string, { sha256: string; bytes: Uint8Array }>,
  moduleServer: BuildInput["moduleServer"] = MODULE_SERVER,
): Decoded {
  return decode({ config: parseConfig(yaml), modules, moduleServer });
}

/** The PluginConfig inside a Wasm filter Any. */
export function pluginOf(any: Any__Output | null | undefined): PluginConfig__Output {
  if (!any) throw new Error("no typed_config");
  const wasm = unpackAny<Wasm__Output>(any);
  if (!wasm.config) throw new Error("Wasm without config");
  return wasm.config;
}

/** The text of a StringValue Any. */
export function stringValueOf(any: Any__Output | null | undefined): string {
  if (!any) throw new Error("no Any");
  return unpackAny<StringValue__Output>(any).value;
}

export function must<T>(value: T | undefined | null, what = "value"): T {
  if (value === undefined || value === null) throw new Error(`missing ${what}`);
  return value;
}
