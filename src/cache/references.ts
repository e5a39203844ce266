/**
 * What a resource refers to by name: the routes, clusters, endpoints and
 * extension configs that must exist for Envoy to use it. Computed from the
 * encoded bytes (so it sees exactly what Envoy will see) once per resource
 * version, and memoised.
 */
import { decodeMessage, messageNameOf } from "../proto/registry";
import { EXTENSION_TYPE_URLS, TYPE_URLS } from "../vocabulary/type-urls";
import type { Resource } from "./resource";

export interface Reference {
  readonly typeUrl: string;
  readonly name: string;
  /** Where in the referring resource, e.g. `filter_chains[0].filters[0].rds.route_config_name`. */
  readonly path: string;
}

type Obj = Record<string, unknown>;
const memo = new WeakMap<Resource, readonly Reference[]>();

export function referencesOf(resource: Resource): readonly Reference[] {
  let refs = memo.get(resource);
  if (!refs) {
    refs = Object.freeze(extract(resource));
    memo.set(resource, refs);
  }
  return refs;
}

function extract(resource: Resource): Reference[] {
  const refs: Reference[] = [];
  const msg = decodeMessage<Obj>(messageNameOf(resource.typeUrl), resource.bytes);
  switch (resource.typeUrl) {
    case TYPE_URLS.listener:
      listenerRefs(msg, refs);
      break;
    case TYPE_URLS.route:
      routeConfigRefs(msg, "", refs);
      break;
    case TYPE_URLS.cluster:
      clusterRefs(msg, refs);
      break;
    case TYPE_URLS.extensionConfig: {
      const tc = asObj(msg.typed_config);
      if (tc) anyRefs(tc, "typed_config", refs);
      break;
    }
  }
  return refs;
}

function listenerRefs(l: Obj, refs: Reference[]): void {
  const chains: [unknown, string][] = arr(l.filter_chains).map((c, i) => [c, `filter_chains[${i}]`]);
  const def = asObj(l.default_filter_chain);
  if (def) chains.push([def, "default_filter_chain"]);
  for (const [chain, path] of chains) {
    for (const [i, f] of arr(asObj(chain)?.filters).entries()) {
      const filter = asObj(f);
      if (!filter) continue;
      const fpath = `${path}.filters[${i}]`;
      if (asObj(filter.config_discovery)) {
        refs.push({ typeUrl: TYPE_URLS.extensionConfig, name: str(filter.name), path: `${fpath}.config_discovery` });
      }
      const tc = asObj(filter.typed_config);
      if (tc) anyRefs(tc, `${fpath}.typed_config`, refs);
    }
  }
  const api = asObj(asObj(l.api_listener)?.api_listener);
  if (api) anyRefs(api, "api_listener.api_listener", refs);
}

/** References inside a google.protobuf.Any of a known filter type. */
function anyRefs(any: Obj, path: string, refs: Reference[]): void {
  const typeUrl = str(any.type_url);
  const value = any.value;
  if (!(value instanceof Uint8Array)) return;
  switch (typeUrl) {
    case EXTENSION_TYPE_URLS.httpConnectionManager: {
      const hcm = decodeMessage<Obj>(messageNameOf(typeUrl), value);
      const rds = asObj(hcm.rds);
      if (rds) refs.push({ typeUrl: TYPE_URLS.route, name: str(rds.route_config_name), path: `${path}.rds.route_config_name` });
      const inline = asObj(hcm.route_config);
      if (inline) routeConfigRefs(inline, `${path}.route_config.`, refs);
      for (const [i, f] of arr(hcm.http_filters).entries()) {
        const hf = asObj(f);
        if (!hf) continue;
        if (asObj(hf.config_discovery)) {
          refs.push({ typeUrl: TYPE_URLS.extensionConfig, name: str(hf.name), path: `${path}.http_filters[${i}].config_discovery` });
        }
        const tc = asObj(hf.typed_config);
        if (tc) anyRefs(tc, `${path}.http_filters[${i}].typed_config`, refs);
      }
      break;
    }
    case EXTENSION_TYPE_URLS.tcpProxy: {
      const tcp = decodeMessage<Obj>(messageNameOf(typeUrl), value);
      if (tcp.cluster) refs.push({ typeUrl: TYPE_URLS.cluster, name: str(tcp.cluster), path: `${path}.cluster` });
      for (const [i, w] of arr(asObj(tcp.weighted_clusters)?.clusters).entries()) {
        refs.push({ typeUrl: TYPE_URLS.cluster, name: str(asObj(w)?.name), path: `${path}.weighted_clusters.clusters[${i}]` });
      }
      break;
    }
    case EXTENSION_TYPE_URLS.httpWasm:
    case EXTENSION_TYPE_URLS.networkWasm: {
      // A remote module is fetched through a cluster that must exist (docs/ENVOY.md "Wasm filter configuration": HttpUri.cluster).
      const wasm = decodeMessage<Obj>(messageNameOf(typeUrl), value);
      const code = asObj(asObj(asObj(wasm.config)?.vm_config)?.code);
      const uri = asObj(asObj(code?.remote)?.http_uri);
      if (uri) refs.push({ typeUrl: TYPE_URLS.cluster, name: str(uri.cluster), path: `${path}.config.vm_config.code.remote.http_uri.cluster` });
      break;
    }
  }
}

function routeConfigRefs(rc: Obj, prefix: string, refs: Reference[]): void {
  for (const [v, vh] of arr(rc.virtual_hosts).entries()) {
    for (const [r, route] of arr(asObj(vh)?.routes).entries()) {
      const action = asObj(asObj(route)?.route);
      if (!action) continue;
      const path = `${prefix}virtual_hosts[${v}].routes[${r}].route`;
      if (action.cluster) refs.push({ typeUrl: TYPE_URLS.cluster, name: str(action.cluster), path: `${path}.cluster` });
      for (const [i, w] of arr(asObj(action.weighted_clusters)?.clusters).entries()) {
        refs.push({ typeUrl: TYPE_URLS.cluster, name: str(asObj(w)?.name), path: `${path}.weighted_clusters.clusters[${i}]` });
      }
    }
  }
}

function clusterRefs(c: Obj, refs: Reference[]): void {
  // An EDS cluster needs its ClusterLoadAssignment: service_name, or the cluster name when unset.
  if (c.type === "EDS") {
    const service = str(asObj(c.eds_cluster_config)?.service_name);
    refs.push({ typeUrl: TYPE_URLS.endpoint, name: service || str(c.name), path: "eds_cluster_config.service_name" });
  }
}

function asObj(x: unknown): Obj | undefined {
  return x !== null && typeof x === "object" && !Array.isArray(x) ? (x as Obj) : undefined;
}
function arr(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}
function str(x: unknown): string {
  return typeof x === "string" ? x : "";
}
