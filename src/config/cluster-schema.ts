/**
 * One entry of `clusters:` in wasmxds.yaml (docs/CONFIG.md, "clusters").
 */
import { z } from "zod";
import { parseEndpoint } from "./address";
import { durationField, nameField, parsedString } from "./fields";
import type { ClusterConfig } from "./model";

/** Envoy's own default for Cluster.connect_timeout (cluster.proto). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

export const clusterSchema = z
  .strictObject({
    name: nameField,
    endpoints: z.array(parsedString(parseEndpoint)).min(1, "expected at least one HOST:PORT endpoint"),
    // Envoy requires connect_timeout > 0.
    connectTimeout: durationField(1).optional(),
    http2: z.boolean().default(false),
  })
  .transform(
    (c): ClusterConfig => ({
      name: c.name,
      endpoints: c.endpoints,
      connectTimeoutMs: c.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
      http2: c.http2,
    }),
  );
