/**
 * Extension config discovery (ECDS) for wasm filters (docs/ENVOY.md "ECDS").
 * The listener's filter only names the config and where to get it; the
 * TypedExtensionConfig resource, named after the filter, carries the Wasm
 * config. Swapping a module then changes only that resource: Envoy applies it
 * to new streams without draining or rebuilding the listener.
 */
import type { FilterConfig } from "../config/model";
import type { ExtensionConfigSource } from "../generated/envoy/config/core/v3/ExtensionConfigSource";
import type { TypedExtensionConfig } from "../generated/envoy/config/core/v3/TypedExtensionConfig";
import type { PackedAny } from "./any";
import { adsConfigSource } from "./config-source";
import { wasmTypeUrl } from "./wasm-filter";

/**
 * What the listener's HttpFilter / network Filter carries instead of
 * typed_config. type_urls limits what Envoy accepts for this filter to the
 * wasm filter of the right kind. No default_config: a listener stays warming
 * until the config arrives, which is why ECDS is pushed before LDS.
 */
export function configDiscovery(filter: FilterConfig): ExtensionConfigSource {
  return { config_source: adsConfigSource(), type_urls: [wasmTypeUrl(filter)] };
}

/** The ECDS resource; its name is the filter name, which is also the listener filter's name. */
export function buildExtensionConfig(filter: FilterConfig, wasm: PackedAny): TypedExtensionConfig {
  return { name: filter.name, typed_config: wasm };
}
