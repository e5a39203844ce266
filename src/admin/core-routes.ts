/**
 * The admin routes every deployment has: nodes, filters, events, health.
 */
import type { Registry } from "prom-client";
import type { EventLog } from "../events/event-log";
import type { ModuleChecks } from "../control/module-checks";
import type { Publisher } from "../control/publisher";
import type { FilterVersions } from "../health/filter-versions";
import type { HealthMonitor } from "../health/monitor";
import type { XdsStreams } from "../xds/xds-streams";
import { AdminHttpError, type AdminRouter } from "./admin-server";
import { nodePage, oneNode } from "./node-query";
import { filterViews } from "./views";

export interface CoreRouteDeps {
  readonly xds: XdsStreams;
  readonly publisher: Publisher;
  readonly checks: ModuleChecks;
  readonly events: EventLog;
  readonly versions: FilterVersions;
  readonly monitor: HealthMonitor;
  readonly metrics: Registry;
  /** The /healthz text when it has more to say than "ok" (a replica cut off from etcd, docs/REPLICAS.md). */
  readonly healthz?: () => string;
}

export function addCoreRoutes(router: AdminRouter, deps: CoreRouteDeps): AdminRouter {
  return router
    .add("GET", "/healthz", () => ({ text: deps.healthz?.() ?? "ok\n" }))
    .add("GET", "/v1", () => ({ json: { paths: router.paths() } }))
    .add("GET", "/metrics", async () => ({ text: await deps.metrics.metrics(), contentType: deps.metrics.contentType }))
    // ?q=&offset=&limit=: one page, matched and sorted before views are built (node-query.ts).
    .add("GET", "/v1/nodes", (req) => ({ json: nodePage(deps.xds, req.query) }))
    .add("GET", "/v1/nodes/:id", (req) => ({ json: oneNode(deps.xds, req.params.id ?? "") }))
    .add("GET", "/v1/filters", () => ({
      json: { version: deps.publisher.published?.snapshot.version ?? null, filters: filterViews(deps.publisher, deps.checks, deps.versions, deps.monitor) },
    }))
    .add("GET", "/v1/filters/:name", (req) => {
      const f = filterViews(deps.publisher, deps.checks, deps.versions, deps.monitor).find((x) => x.name === req.params.name);
      if (!f) throw new AdminHttpError(404, `no filter named "${req.params.name}"`);
      return { json: f };
    })
    .add("GET", "/v1/events", (req) => {
      const after = Number(req.query.get("after") ?? "0");
      const limit = req.query.get("limit");
      if (!Number.isInteger(after) || after < 0) throw new AdminHttpError(400, "after: expected a non-negative integer");
      if (limit !== null && !/^\d+$/.test(limit)) throw new AdminHttpError(400, "limit: expected a positive integer");
      const types = req.query.getAll("type").flatMap((t) => t.split(","));
      return { json: { events: deps.events.list({ afterSeq: after, types, ...(limit !== null && { limit: Number(limit) }) }) } };
    });
}
