/** A simulated fleet for the health and rollout tests, and what each node runs of the filter `guard` (config-folder.ts). */
import type { RunningWasmxds } from "../../src/main";
import { SimFleet, type SimFleetOptions, type SimNode } from "../../src/sim";
import { removeFolder } from "./config-folder";
import { waitFor } from "./wait";

/** 20 nodes: n0..n15 in cluster edge (n3 and n7 with ring=canary), n16..n19 in cluster core; resolves once every node is LIVE. */
export async function startFleet(port: number, nodes = 20, extra: Partial<SimFleetOptions> = {}): Promise<SimFleet> {
  const fleet = new SimFleet({
    nodes,
    idPrefix: "n",
    xdsAddress: `127.0.0.1:${port}`,
    perNode: (i) => ({ cluster: i < 16 ? "edge" : "core", metadata: { ring: i === 3 || i === 7 ? "canary" : "main" } }),
    ...extra,
  });
  await fleet.start();
  await waitFor("fleet LIVE", () => fleet.summary().live === nodes, 15_000);
  return fleet;
}

/** The guard module a node runs (undefined: not running the filter). */
export function runningGuard(n: SimNode): string | undefined {
  return n.plugins().find((p) => p.name.startsWith("guard@"))?.runningCodeSha256;
}

/** Stops the fleet, then the control plane, then removes the folder; each may be absent. */
export async function cleanup(fleet: SimFleet | undefined, app: RunningWasmxds | undefined, dir: string | undefined): Promise<void> {
  await fleet?.stop();
  await app?.close();
  if (dir) await removeFolder(dir);
}
