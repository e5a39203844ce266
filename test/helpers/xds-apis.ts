/**
 * Both xDS variants a simulated fleet can speak, for end-to-end tests that
 * must hold in each (issue 16: the same rollback and rollout tests pass
 * with state-of-the-world and with delta xDS).
 */
import type { XdsApi } from "../../src/sim";

export const XDS_APIS: readonly XdsApi[] = ["sotw", "delta"];
