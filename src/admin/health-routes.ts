/**
 * Admin routes of the health side: clearing a quarantine (the command that
 * lets a rolled-back version be pushed again).
 */
import type { EventLog } from "../events/event-log";
import type { Publisher } from "../control/publisher";
import type { FilterVersions } from "../health/filter-versions";
import { WasmxdsError } from "../errors";
import { AdminHttpError, type AdminRouter } from "./admin-server";

export interface HealthRouteDeps {
  readonly publisher: Publisher;
  readonly versions: FilterVersions;
  readonly events: EventLog;
}

export function addHealthRoutes(router: AdminRouter, deps: HealthRouteDeps): AdminRouter {
  return router.add("POST", "/v1/filters/:name/quarantine/clear", async (req) => {
    const name = req.params.name ?? "";
    if (!deps.publisher.published?.loaded.config.filters.some((f) => f.name === name)) {
      throw new AdminHttpError(404, `no filter named "${name}"`);
    }
    const body = req.body as { sha256?: unknown } | undefined;
    if (body?.sha256 !== undefined && (typeof body.sha256 !== "string" || !/^[0-9a-f]{8,64}$/.test(body.sha256))) {
      throw new AdminHttpError(400, "sha256: expected 8 to 64 lowercase hex characters");
    }
    const cleared = await deps.versions.clearQuarantine(name, body?.sha256 as string | undefined).catch((err: unknown) => {
      // With replicas only the leader changes the shared state; the message names it (docs/REPLICAS.md).
      if (err instanceof WasmxdsError && err.code === "NOT_LEADER") throw new AdminHttpError(409, err.message);
      throw err;
    });
    if (cleared.length === 0) return { json: { filter: name, cleared: [], version: deps.publisher.published.snapshot.version } };
    deps.events.add("quarantine-cleared", "operator", `quarantine of ${cleared.map((s) => `${name}@${s.slice(0, 8)}`).join(", ")} cleared`, {
      filter: name,
      cleared,
    });
    const result = await deps.publisher.reload();
    return {
      json: {
        filter: name,
        cleared,
        published: result.ok,
        version: result.ok ? result.snapshot.version : null,
        ...(!result.ok && { error: result.error.message }),
      },
    };
  });
}
