/**
 * The node an Envoy (or gRPC client) identifies itself as, reduced to what the
 * control plane selects on: id, cluster, locality and metadata (as JSON).
 * Shared vocabulary: the cache groups by it, the stream reads it (xds/node.ts),
 * selectors and rollouts match on it.
 */
export interface NodeInfo {
  readonly id: string;
  readonly cluster: string;
  readonly locality: Readonly<{ region: string; zone: string; subZone: string }>;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly userAgent: string;
}
