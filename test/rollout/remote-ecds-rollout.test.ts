/**
 * A rollout of remote code over ECDS (docs/HEALTH.md, "Remote code over
 * ECDS"; docs/ROLLOUTS.md): the canary's cache-miss NACK is not a NACK for
 * the gates (maxNacks 0 would abort), its re-push lands in a group that is
 * both canary and re-push (`guard=c+r<n>`), the ACK of the re-push counts
 * towards minAcked, and the rollout completes with every node on the
 * candidate. Regression: when the rollout completed, a node re-pushed as a
 * canary went back to attempt 0 of the same version, whose config it had
 * NACKed; Envoy skipped it by hash and the node kept the old module. The
 * attempt now belongs to the version, not to the node's group. The
 * control plane runs on a FakeClock the test advances.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import type { SimFleet } from "../../src/sim";
import type { FakeClock } from "../../src/time/fake-clock";
import { advanceUntil, testClock } from "../helpers/clock";
import { waitFor } from "../helpers/wait";
import { startTestApp } from "../helpers/app";
import { makeFolder, rolloutYaml, writeVersion } from "../helpers/config-folder";
import { cleanup, runningGuard, startFleet } from "../helpers/fleet";
import { XDS_APIS } from "../helpers/xds-apis";

const STEPS = `        - { nodes: 1, bake: 200ms }
        - { percent: 100 }`;
const remote = (yaml: string) => yaml.replace("code: inline", "code: remote");

describe.each(XDS_APIS)("rollout of remote code over ECDS (%s xDS)", (xdsApi) => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  let clock: FakeClock;

  beforeAll(async () => {
    ({ dir } = await makeFolder(remote(rolloutYaml({ steps: STEPS }))));
    clock = testClock();
    app = await startTestApp(dir, { clock });
    fleet = await startFleet(app.xdsAddress.port, 4, { xdsApi });
  });
  afterAll(() => cleanup(fleet, app, dir));

  it("passes the gates through cache-miss NACKs and re-pushes and completes", async () => {
    const v2 = await writeVersion(dir, "v2", remote(rolloutYaml({ steps: STEPS })));
    expect((await app.reload()).ok).toBe(true);
    await advanceUntil(clock, "completed", () => app.rollouts.rollouts("guard").history.find((h) => h.outcome !== "superseded"), { stepMs: 50, realTimeoutMs: 20_000 });
    expect(app.rollouts.rollouts("guard").history.map((h) => h.outcome)).toEqual(["completed"]);
    await waitFor("every node on v2", () => fleet.nodes.every((n) => runningGuard(n) === v2), 15_000);
    expect(app.versions.quarantined("guard")).toEqual([]);
    expect(app.events.list({ types: ["remote-repush"] }).some((e) => e.details?.sha256 === v2)).toBe(true);
  });
});
