/**
 * What a simulated node takes from a Listener: the address, the first
 * filter chain's network filters, and for an HttpConnectionManager its stat
 * prefix, routes (RDS name or inline) and HTTP filters. Wasm filters given
 * inline (typed_config) are created here, so a bad inline module rejects
 * the listener (`Unable to create Wasm plugin <name>`); filters given by
 * config_discovery are ECDS references. Filters the simulator does not
 * model are passed through rather than rejected. The HTTP filter order
 * rules are Envoy's (http/filter_chain_helper.h: the router must be last).
 */
import type { ConfigSource__Output } from "../../generated/envoy/config/core/v3/ConfigSource";
import type { ExtensionConfigSource__Output } from "../../generated/envoy/config/core/v3/ExtensionConfigSource";
import type { Listener__Output } from "../../generated/envoy/config/listener/v3/Listener";
import type { RouteConfiguration__Output } from "../../generated/envoy/config/route/v3/RouteConfiguration";
import type { HttpConnectionManager__Output } from "../../generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager";
import type { TcpProxy__Output } from "../../generated/envoy/extensions/filters/network/tcp_proxy/v3/TcpProxy";
import type { PluginConfig__Output } from "../../generated/envoy/extensions/wasm/v3/PluginConfig";
import type { Any__Output } from "../../generated/google/protobuf/Any";
import { decodeMessage, messageNameOf } from "../../proto/registry";
import { EXTENSION_TYPE_URLS } from "../../vocabulary/type-urls";
import { readPluginSpec } from "../wasm/plugin-spec";
import { type AccessLogSpec, readAccessLogs } from "./access-log-spec";
import type { WasmPlugin } from "../wasm/wasm-plugin";
import type { WasmRuntime } from "../wasm/wasm-runtime";
import type { EcdsReference, FilterKind } from "./ecds-registry";
import { initialFetchTimeoutMs } from "./proto-util";

export type FilterSlot =
  | { readonly kind: "wasm"; readonly name: string; readonly plugin: WasmPlugin }
  | { readonly kind: "ecds"; readonly name: string; readonly ref: EcdsReference }
  | { readonly kind: "terminal"; readonly name: string }
  | { readonly kind: "other"; readonly name: string };

export interface HttpSpec {
  readonly statPrefix: string;
  readonly rds: { readonly name: string; readonly initialFetchTimeoutMs: number } | undefined;
  readonly routeConfig: RouteConfiguration__Output | undefined;
  readonly filters: readonly FilterSlot[];
  /** The HttpConnectionManager's gRPC access logs (one entry per request). */
  readonly accessLogs: readonly AccessLogSpec[];
}

export interface ListenerSpec {
  readonly name: string;
  readonly bytes: Buffer;
  /** `127.0.0.1:10000` */
  readonly address: string;
  /** Envoy's listener stat scope: `listener.<address>_<port>.` or the listener's stat_prefix. */
  readonly statScope: string;
  /** Network filters before the terminal one. */
  readonly networkFilters: readonly FilterSlot[];
  readonly http: HttpSpec | undefined;
  readonly tcp: { readonly statPrefix: string; readonly cluster: string } | undefined;
  /** Inline wasm plugins owned by this listener version. */
  readonly plugins: readonly WasmPlugin[];
  /** The listener's gRPC access logs (one entry per connection, at its end). */
  readonly accessLogs: readonly AccessLogSpec[];
}

const HCM = EXTENSION_TYPE_URLS.httpConnectionManager;
const WASM: Readonly<Record<FilterKind, string>> = { http: EXTENSION_TYPE_URLS.httpWasm, network: EXTENSION_TYPE_URLS.networkWasm };

function ecdsRef(kind: FilterKind, name: string, source: ExtensionConfigSource__Output): EcdsReference {
  return { kind, name, typeUrls: source.type_urls, initialFetchTimeoutMs: initialFetchTimeoutMs(source.config_source) };
}

class Builder {
  readonly plugins: WasmPlugin[] = [];
  constructor(private readonly wasm: WasmRuntime) {}

  slot(kind: FilterKind, f: { name: string; typed_config?: Any__Output | null; config_discovery?: ExtensionConfigSource__Output | null }): FilterSlot {
    if (f.config_discovery) {
      if (f.config_discovery.type_urls.length === 0) {
        throw new Error("Proto constraint validation failed (ExtensionConfigSourceValidationError.TypeUrls: value must contain at least 1 item(s))");
      }
      return { kind: "ecds", name: f.name, ref: ecdsRef(kind, f.name, f.config_discovery) };
    }
    const typeUrl = f.typed_config?.type_url ?? "";
    if (typeUrl === WASM[kind]) {
      const wasm = decodeMessage<{ config: PluginConfig__Output | null }>(messageNameOf(typeUrl), f.typed_config?.value ?? Buffer.alloc(0));
      // A new listener version: its init manager runs (and waits for) any remote fetch.
      const plugin = this.wasm.createPlugin(readPluginSpec(kind, wasm.config), "initializing");
      this.plugins.push(plugin);
      return { kind: "wasm", name: f.name, plugin };
    }
    const terminal = kind === "http" ? typeUrl === EXTENSION_TYPE_URLS.router : typeUrl === EXTENSION_TYPE_URLS.tcpProxy || typeUrl === HCM;
    return { kind: terminal ? "terminal" : "other", name: f.name };
  }
}

function httpSpec(hcm: HttpConnectionManager__Output, b: Builder): HttpSpec {
  const filters = hcm.http_filters.filter((f) => !f.disabled).map((f) => b.slot("http", f));
  filters.forEach((f, i) => {
    const last = i === filters.length - 1;
    if (f.kind === "terminal" && !last) {
      throw new Error(`Error: terminal filter named ${f.name} of type envoy.filters.http.router must be the last filter in a http filter chain.`);
    }
    if (f.kind === "wasm" && last) {
      throw new Error(`Error: non-terminal filter named ${f.name} of type envoy.filters.http.wasm is the last filter in a http filter chain.`);
    }
  });
  const rds =
    hcm.route_specifier === "rds" && hcm.rds
      ? { name: hcm.rds.route_config_name, initialFetchTimeoutMs: initialFetchTimeoutMs(hcm.rds.config_source as ConfigSource__Output | null) }
      : undefined;
  return { statPrefix: hcm.stat_prefix, rds, routeConfig: hcm.route_config ?? undefined, filters, accessLogs: readAccessLogs(hcm.access_log) };
}

/** Reads a listener; throws Envoy's message for what Envoy would reject. Releases its plugins on failure. */
export function readListener(bytes: Buffer, listener: Listener__Output, wasm: WasmRuntime): ListenerSpec {
  const b = new Builder(wasm);
  try {
    const sa = listener.address?.socket_address;
    const address = sa ? `${sa.address}:${sa.port_value ?? 0}` : "";
    const chain = listener.filter_chains[0] ?? listener.default_filter_chain;
    if (!chain) throw new Error(`error adding listener '${address}': no filter chains specified`);
    const networkFilters: FilterSlot[] = [];
    let http: HttpSpec | undefined;
    let tcp: ListenerSpec["tcp"];
    for (const f of chain.filters) {
      const typeUrl = f.typed_config?.type_url ?? "";
      if (typeUrl === HCM) {
        http = httpSpec(decodeMessage<HttpConnectionManager__Output>(messageNameOf(HCM), f.typed_config?.value ?? Buffer.alloc(0)), b);
      } else if (typeUrl === EXTENSION_TYPE_URLS.tcpProxy) {
        const p = decodeMessage<TcpProxy__Output>(messageNameOf(typeUrl), f.typed_config?.value ?? Buffer.alloc(0));
        tcp = { statPrefix: p.stat_prefix, cluster: p.cluster ?? "" };
      } else {
        networkFilters.push(b.slot("network", f));
      }
    }
    const statScope = listener.stat_prefix ? `listener.${listener.stat_prefix}.` : `listener.${address.replace(/:(\d+)$/, "_$1")}.`;
    const accessLogs = readAccessLogs(listener.access_log);
    return { name: listener.name, bytes, address, statScope, networkFilters, http, tcp, plugins: b.plugins, accessLogs };
  } catch (err) {
    for (const p of b.plugins) p.release();
    throw err;
  }
}

/** The ECDS names and RDS name a listener waits for. */
export function listenerDependencies(spec: ListenerSpec): { ecds: EcdsReference[]; rds: HttpSpec["rds"] } {
  const slots = [...spec.networkFilters, ...(spec.http?.filters ?? [])];
  return { ecds: slots.flatMap((s) => (s.kind === "ecds" ? [s.ref] : [])), rds: spec.http?.rds };
}
