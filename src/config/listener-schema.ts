/**
 * One entry of `listeners:` in wasmxds.yaml (docs/CONFIG.md, "listeners"):
 * exactly one of `http` (HttpConnectionManager with routes) or `tcp`
 * (tcp_proxy to one cluster).
 */
import { z } from "zod";
import { parseListenAddress } from "./address";
import { nameField, parsedString } from "./fields";
import type { ListenerConfig, RouteConfig } from "./model";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

const pathField = z.string().startsWith("/", "expected a path starting with '/'");

/**
 * Envoy's RouteMatch needs exactly one path specifier; `prefix` and exact
 * `path` cover what a filter demo or a simple edge needs.
 */
const routeSchema = z
  .strictObject({ prefix: pathField.optional(), path: pathField.optional(), cluster: nameField })
  .superRefine(
    (r, ctx) => {
      if (r.prefix !== undefined && r.path !== undefined) {
        ctx.addIssue({ code: "custom", path: ["path"], message: "expected either prefix or path, not both" });
      } else if (r.prefix === undefined && r.path === undefined) {
        ctx.addIssue({ code: "custom", message: "expected prefix (e.g. /) or path (an exact path)" });
      }
    },
    { when: (payload) => isObject(payload.value) },
  )
  .transform(
    (r): RouteConfig =>
      r.path !== undefined ? { path: r.path, cluster: r.cluster } : { prefix: r.prefix ?? "/", cluster: r.cluster },
  );

const filterList = z.array(nameField).default([]);
const statPrefix = z.string().min(1, "expected a non-empty string").optional();

const httpSchema = z.strictObject({
  filters: filterList,
  routes: z.array(routeSchema).min(1, "expected at least one route, e.g. [{ prefix: /, cluster: backend }]"),
  statPrefix,
});

const tcpSchema = z.strictObject({ filters: filterList, cluster: nameField, statPrefix });

export const listenerSchema = z
  .strictObject({
    name: nameField,
    address: parsedString(parseListenAddress),
    http: httpSchema.optional(),
    tcp: tcpSchema.optional(),
  })
  .superRefine(
    (l, ctx) => {
      if (l.http !== undefined && l.tcp !== undefined) {
        ctx.addIssue({ code: "custom", path: ["tcp"], message: "expected either http or tcp, not both" });
      } else if (l.http === undefined && l.tcp === undefined) {
        ctx.addIssue({ code: "custom", message: "expected http (filters and routes) or tcp (filters and cluster)" });
      }
    },
    { when: (payload) => isObject(payload.value) },
  )
  .transform((l): ListenerConfig => {
    // stat_prefix defaults to the listener name so stats read http.<listener>.* / tcp.<listener>.*.
    if (l.http !== undefined) {
      const { filters, routes, statPrefix: prefix } = l.http;
      return { kind: "http", name: l.name, address: l.address, statPrefix: prefix ?? l.name, filters, routes };
    }
    const tcp = l.tcp ?? { filters: [], cluster: "", statPrefix: undefined };
    return {
      kind: "tcp",
      name: l.name,
      address: l.address,
      statPrefix: tcp.statPrefix ?? l.name,
      filters: tcp.filters,
      cluster: tcp.cluster,
    };
  });
