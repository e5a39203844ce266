/**
 * Admin routes of rollouts: GET /v1/rollouts and
 * POST /v1/rollouts/<filter>/pause|resume|promote|abort.
 */
import type { Publisher } from "../control/publisher";
import { WasmxdsError } from "../errors";
import type { RolloutController } from "../rollout/controller";
import { rolloutStatuses } from "../rollout/status";
import { type Clock, realClock } from "../time/clock";
import { AdminHttpError, type AdminRouter } from "./admin-server";

const ACTIONS = ["pause", "resume", "promote", "abort"] as const;

export function addRolloutRoutes(router: AdminRouter, deps: { rollouts: RolloutController; publisher: Publisher; clock?: Clock }): AdminRouter {
  const filters = () => deps.publisher.published?.loaded.config.filters ?? [];
  // Bakes are timed on the controller's clock: a status reads it from the same one.
  const clock = deps.clock ?? realClock;
  router.add("GET", "/v1/rollouts", () => ({ json: { rollouts: rolloutStatuses(deps.rollouts, filters(), clock.now()) } }));
  router.add("GET", "/v1/rollouts/:filter", (req) => {
    const s = rolloutStatuses(deps.rollouts, filters(), clock.now()).find((x) => x.filter === req.params.filter);
    if (!s) throw new AdminHttpError(404, `no rollout for filter "${req.params.filter}"`);
    return { json: s };
  });
  for (const action of ACTIONS) {
    router.add("POST", `/v1/rollouts/:filter/${action}`, (req) => {
      const name = req.params.filter ?? "";
      if (!filters().some((f) => f.name === name)) throw new AdminHttpError(404, `no filter named "${name}"`);
      try {
        deps.rollouts[action](name, "operator");
      } catch (err) {
        // NOT_LEADER: with replicas, rollout commands go to the leader (the message names it, docs/REPLICAS.md).
        if (err instanceof WasmxdsError && (err.code === "ROLLOUT_INVALID" || err.code === "NOT_LEADER")) throw new AdminHttpError(409, err.message);
        throw err;
      }
      return { json: rolloutStatuses(deps.rollouts, filters(), clock.now()).find((x) => x.filter === name) ?? null };
    });
  }
  return router;
}
