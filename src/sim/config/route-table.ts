/**
 * RDS in a simulated node: RouteConfigurations by name, the route lookup the
 * router filter does, and the RDS stats Envoy keeps under
 * `http.<stat_prefix>.rds.<route_config_name>.` (Envoy docs "RDS
 * statistics"). RDS is not a wildcard type, so a response without a watched
 * name leaves that route configuration as it was.
 */
import type { RouteConfiguration__Output } from "../../generated/envoy/config/route/v3/RouteConfiguration";
import type { VirtualHost__Output } from "../../generated/envoy/config/route/v3/VirtualHost";
import type { Any__Output } from "../../generated/google/protobuf/Any";
import { decodeMessage } from "../../proto/registry";
import type { StatsStore } from "../stats/stats-store";
import type { ApplyResult } from "../xds/xds-client";

export type RouteDecision =
  | { readonly kind: "cluster"; readonly cluster: string }
  | { readonly kind: "direct"; readonly status: number }
  | { readonly kind: "redirect" }
  | { readonly kind: "none" };

const ROUTE_CONFIGURATION = "envoy.config.route.v3.RouteConfiguration";

export class RouteTable {
  private readonly configs = new Map<string, { bytes: Buffer; config: RouteConfiguration__Output }>();
  /** Names that got a config, or gave up waiting (initial fetch timeout, rejection). */
  private readonly initialized = new Set<string>();

  constructor(
    private readonly stats: StatsStore,
    /** The stat prefix of the first HCM using a route config name. */
    private readonly statPrefixOf: (routeName: string) => string,
  ) {}

  get(name: string): RouteConfiguration__Output | undefined {
    return this.configs.get(name)?.config;
  }

  isInitialized(name: string): boolean {
    return this.initialized.has(name);
  }

  markInitialized(name: string, reason: "init_fetch_timeout" | "rejected"): void {
    if (this.initialized.has(name)) return;
    this.initialized.add(name);
    if (reason === "init_fetch_timeout") this.stats.inc(`${this.scope(name)}init_fetch_timeout`);
  }

  forget(name: string): void {
    this.configs.delete(name);
    this.initialized.delete(name);
  }

  apply(resources: readonly Any__Output[], watched: ReadonlySet<string>): ApplyResult {
    for (const name of watched) this.stats.inc(`${this.scope(name)}update_attempt`);
    for (const any of resources) {
      const config = decodeMessage<RouteConfiguration__Output>(ROUTE_CONFIGURATION, any.value);
      if (!watched.has(config.name)) continue;
      const problem = duplicateDomain(config);
      // Envoy rejects the whole RDS update (RouteMatcher in router/config_impl.cc); the old config stays.
      if (problem) return { ok: false, message: problem };
      const bytes = Buffer.from(any.value);
      this.initialized.add(config.name);
      if (this.configs.get(config.name)?.bytes.equals(bytes)) continue;
      this.configs.set(config.name, { bytes, config });
      this.stats.inc(`${this.scope(config.name)}config_reload`);
    }
    for (const name of watched) this.stats.inc(`${this.scope(name)}update_success`);
    return { ok: true };
  }

  /** A rejected RDS update: counted for every watched name, which stop waiting (GrpcMuxImpl fails all watches). */
  rejected(watched: ReadonlySet<string>): void {
    for (const name of watched) {
      this.stats.inc(`${this.scope(name)}update_rejected`);
      this.markInitialized(name, "rejected");
    }
  }

  private scope(name: string): string {
    return `http.${this.statPrefixOf(name)}.rds.${name}.`;
  }
}

function duplicateDomain(config: RouteConfiguration__Output): string | undefined {
  const seen = new Set<string>();
  for (const vh of config.virtual_hosts) {
    for (const d of vh.domains) {
      const domain = d.toLowerCase();
      if (seen.has(domain)) return `Only unique values for domains are permitted. Duplicate entry of domain ${domain} in route ${config.name}`;
      seen.add(domain);
    }
  }
  return undefined;
}

function domainMatches(domain: string, host: string): number {
  if (domain === host) return 4;
  if (domain === "*") return 1;
  if (domain.startsWith("*") && host.endsWith(domain.slice(1))) return 3;
  if (domain.endsWith("*") && host.startsWith(domain.slice(0, -1))) return 2;
  return 0;
}

/**
 * The virtual host for an authority (exact domain, then suffix and prefix
 * wildcards, then `*`: Envoy's route_components.proto VirtualHost.domains),
 * then the first route whose prefix / path / safe_regex matches.
 */
export function routeRequest(config: RouteConfiguration__Output | undefined, authority: string, path: string): RouteDecision {
  if (!config) return { kind: "none" };
  const host = authority.toLowerCase();
  let best: VirtualHost__Output | undefined;
  let bestScore = 0;
  for (const vh of config.virtual_hosts) {
    for (const d of vh.domains) {
      const score = Math.max(domainMatches(d.toLowerCase(), host), domainMatches(d.toLowerCase(), host.replace(/:\d+$/, "")));
      if (score > bestScore) {
        best = vh;
        bestScore = score;
      }
    }
  }
  const pathOnly = path.split("?")[0] ?? path;
  for (const route of best?.routes ?? []) {
    const m = route.match;
    if (!m) continue;
    const matched =
      m.prefix !== undefined && m.path_specifier === "prefix"
        ? pathOnly.startsWith(m.prefix)
        : m.path_specifier === "path"
          ? pathOnly === m.path
          : m.path_specifier === "safe_regex"
            ? safeRegexMatches(m.safe_regex?.regex ?? "", pathOnly)
            : false;
    if (!matched) continue;
    if (route.action === "direct_response") return { kind: "direct", status: route.direct_response?.status ?? 200 };
    if (route.action === "redirect") return { kind: "redirect" };
    const action = route.route;
    if (action?.cluster_specifier === "cluster") return { kind: "cluster", cluster: action.cluster ?? "" };
    if (action?.cluster_specifier === "weighted_clusters") {
      return { kind: "cluster", cluster: action.weighted_clusters?.clusters[0]?.name ?? "" };
    }
    return { kind: "none" };
  }
  return { kind: "none" };
}

function safeRegexMatches(regex: string, path: string): boolean {
  try {
    return new RegExp(`^(?:${regex})$`).test(path);
  } catch {
    return false;
  }
}
