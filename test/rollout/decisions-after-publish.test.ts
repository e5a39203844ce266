/**
 * Rollout decisions are applied after the publish, not during the rebuild
 * (issue 13 item 1). Before, RolloutController.resolve started the rollout
 * of a new version in the middle of the rebuild: when the build failed
 * after it (here another filter's module over server.maxInlineBytes in the same edit), the publish was
 * rejected but the rollout had started, been saved and announced, with its
 * candidate served to nobody.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { fixture, variant } from "../helpers/wasm-bytes";
import { startTestApp } from "../helpers/app";
import { makeFolder, rolloutYaml } from "../helpers/config-folder";
import { writeFile } from "node:fs/promises";

const steps = `        - { nodes: 1, bake: 1h }
        - { percent: 100 }`;

let app: RunningWasmxds | undefined;
let dir: string | undefined;
afterEach(async () => {
  await app?.close(0);
  if (dir) await rm(dir, { recursive: true, force: true });
  app = undefined;
  dir = undefined;
});

describe("rollout decisions", () => {
  it("a rejected publish starts no rollout (before: the rollout started mid-rebuild and stayed)", async () => {
    const folder = await makeFolder(rolloutYaml({ steps }));
    dir = folder.dir;
    const v1Size = (await readFile(join(dir, "modules/guard.wasm"))).length;
    await writeFile(join(dir, "modules/big.wasm"), variant(fixture("good_http"), "big"));
    const big = `  - { name: big, kind: http, module: modules/big.wasm, rootId: "", code: inline, preflight: false }\nlisteners:`;
    const yaml = rolloutYaml({ steps }).replace("listeners:", big).replace("filters: [guard]", "filters: [guard, big]");
    await writeFile(join(dir, "wasmxds.yaml"), `${yaml}server:\n  maxInlineBytes: ${v1Size + 100}\n`);
    app = await startTestApp(dir);
    expect(app.rollouts.rollouts("guard").stable?.sha256).toBe(folder.v1);

    // One edit: guard's v2 (the split decides to start its rollout) and a module of "big" over the inline limit (the build refuses it).
    await writeFile(join(dir, "modules/guard.wasm"), variant(fixture("good_http"), "v2"));
    await writeFile(join(dir, "modules/big.wasm"), variant(fixture("good_http"), "big".padEnd(1000, "x")));
    const result = await app.reload();
    expect(result).toMatchObject({ ok: false, stage: "snapshot" });
    expect(app.rollouts.rollouts("guard").active).toBeUndefined();
    expect(app.events.list({ types: ["rollout-started"] })).toEqual([]);
    expect(app.state.get().rollouts.guard).toMatchObject({ stable: { sha256: folder.v1 } });
    expect((app.state.get().rollouts.guard as { active?: unknown }).active).toBeUndefined();
  });
});
