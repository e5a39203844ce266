/**
 * The RouteConfiguration of an HTTP listener, sent over RDS and named after
 * the listener (its HttpConnectionManager asks for that name). One virtual
 * host matching every authority; routes in the order written, because Envoy
 * uses the first route that matches.
 */
import type { HttpListenerConfig, RouteConfig } from "../config/model";
import type { Route } from "../generated/envoy/config/route/v3/Route";
import type { RouteConfiguration } from "../generated/envoy/config/route/v3/RouteConfiguration";

function buildRoute(route: RouteConfig): Route {
  const match = "path" in route ? { path: route.path } : { prefix: route.prefix };
  return { match, route: { cluster: route.cluster } };
}

export function buildRouteConfiguration(listener: HttpListenerConfig): RouteConfiguration {
  return {
    name: listener.name,
    virtual_hosts: [{ name: listener.name, domains: ["*"], routes: listener.routes.map(buildRoute) }],
  };
}
