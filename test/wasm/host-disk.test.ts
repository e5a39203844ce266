/**
 * The simulator's stand-in for the Envoy host's disk (src/sim/wasm/host-disk.ts):
 * a hostPath is read under the root, never outside it, and what cannot be
 * read gets Envoy's message for a local file it cannot read.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHostFile } from "../../src/sim/wasm/host-disk";

describe("readHostFile", () => {
  let base: string;
  let root: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), "wasmxds-hostdisk-"));
    root = join(base, "root");
    await mkdir(join(root, "opt"), { recursive: true });
    await writeFile(join(root, "opt/f.wasm"), "inside");
    await writeFile(join(base, "secret.wasm"), "outside");
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it("reads a file under the root", () => {
    expect(readHostFile({ root }, "/opt/f.wasm")).toEqual({ bytes: Buffer.from("inside") });
  });

  it("refuses a path that climbs out of the root", () => {
    expect(readHostFile({ root }, "/../secret.wasm")).toEqual({ error: "Invalid path: /../secret.wasm" });
    expect(readHostFile({ root }, "/opt/../../secret.wasm")).toEqual({ error: "Invalid path: /opt/../../secret.wasm" });
  });

  it("a missing file is Envoy's Invalid path; a folder reads as empty code", () => {
    expect(readHostFile({ root }, "/opt/missing.wasm")).toEqual({ error: "Invalid path: /opt/missing.wasm" });
    expect(readHostFile({ root }, "/opt")).toEqual({ bytes: new Uint8Array(0) });
  });

  it("without a root, reads the path as given", () => {
    expect(readHostFile(undefined, join(base, "secret.wasm"))).toEqual({ bytes: Buffer.from("outside") });
  });
});
