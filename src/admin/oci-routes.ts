/**
 * GET /v1/pulls: what each `oci://` reference resolved to, when, and the
 * last pull error (docs/OCI.md). A failed pull of a new reference leaves
 * the published config as it was, so the view comes from the resolver
 * (every reference asked for) joined with the filters now served.
 */
import type { Publisher } from "../control/publisher";
import type { OciPullStatus } from "../wasm/oci";
import type { AdminRouter } from "./admin-server";

export interface PullView {
  readonly reference: string;
  readonly pullPolicy: string;
  /** Served filters pulling this reference. */
  readonly filters: readonly string[];
  readonly manifestDigest?: string;
  readonly sha256?: string;
  readonly resolvedAt?: string;
  readonly error?: string;
  readonly errorAt?: string;
}

export function pullViews(statuses: readonly OciPullStatus[], publisher: Pick<Publisher, "published">): PullView[] {
  const filters = publisher.published?.loaded.config.filters ?? [];
  return statuses.map((s) => ({
    reference: s.reference,
    pullPolicy: s.pullPolicy,
    filters: filters.filter((f) => f.module.type === "oci" && f.module.reference === s.reference).map((f) => f.name),
    ...(s.manifestDigest !== undefined && { manifestDigest: s.manifestDigest }),
    ...(s.sha256 !== undefined && { sha256: s.sha256 }),
    ...(s.resolvedAt !== undefined && { resolvedAt: new Date(s.resolvedAt).toISOString() }),
    ...(s.error !== undefined && { error: s.error }),
    ...(s.errorAt !== undefined && { errorAt: new Date(s.errorAt).toISOString() }),
  }));
}

export function addOciRoutes(router: AdminRouter, deps: { oci: { statuses(): OciPullStatus[] }; publisher: Pick<Publisher, "published"> }): AdminRouter {
  return router.add("GET", "/v1/pulls", () => ({ json: { pulls: pullViews(deps.oci.statuses(), deps.publisher) } }));
}
