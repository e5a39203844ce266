/**
 * GET /v1/nodes/<id>/explain: which version of each filter one connected
 * node receives, and why (control/explain.ts). The node's stream status
 * says what it was sent and what it NACKed.
 */
import type { ServingPipeline } from "../control/serving-pipeline";
import type { XdsStreams } from "../xds/xds-streams";
import { AdminHttpError, type AdminRouter } from "./admin-server";

export function addExplainRoutes(router: AdminRouter, deps: { readonly xds: XdsStreams; readonly pipeline: ServingPipeline }): AdminRouter {
  return router.add("GET", "/v1/nodes/:id/explain", (req) => {
    const id = req.params.id ?? "";
    const stream = deps.xds.streamStatuses().find((s) => s.node?.id === id);
    const explained = stream ? deps.pipeline.explain(id, stream.types) : undefined;
    if (!explained) throw new AdminHttpError(404, `no node "${id}" is connected over xDS`);
    return { json: explained };
  });
}
