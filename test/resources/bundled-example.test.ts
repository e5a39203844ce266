/**
 * The bundled config/ folder, loaded from disk with its real modules, builds
 * a snapshot that encodes and is consistent (every referenced name exists).
 */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { assertConsistent } from "../../src/cache/consistency";
import { Snapshot } from "../../src/cache/snapshot";
import { loadConfig } from "../../src/config/load";
import { buildResources } from "../../src/resources/build";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { MODULE_SERVER, decode, must, pluginOf } from "../helpers/decoded";

describe("bundled example", () => {
  it("builds a consistent snapshot with an inline HTTP filter and a remote network filter", async () => {
    const loaded = await loadConfig(resolve(import.meta.dirname, "../../config"));
    const input = { config: loaded.config, modules: loaded.modules, moduleServer: MODULE_SERVER };
    const snapshot = Snapshot.create(buildResources(input));
    expect(() => assertConsistent(snapshot)).not.toThrow();
    expect(snapshot.resource(TYPE_URLS.cluster, "wasmxds_modules")).toBeDefined();

    const d = decode(input);
    const addHeader = must(loaded.modules.get("add-header"));
    const inline = pluginOf(d.extensions.get("add-header")?.typed_config);
    expect(Buffer.from(must(inline.vm_config?.code?.local?.inline_bytes)).equals(Buffer.from(addHeader.bytes))).toBe(true);
    const connGuard = must(loaded.modules.get("conn-guard"));
    const remote = pluginOf(d.extensions.get("conn-guard")?.typed_config);
    expect(remote.vm_config?.code?.remote?.sha256).toBe(connGuard.sha256);
    expect(remote.vm_config?.vm_id).toBe(`conn-guard@${connGuard.sha256.slice(0, 8)}`);
  });
});
