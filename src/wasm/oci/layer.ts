/**
 * Getting the module out of a layer: a wasm layer is the module itself; a
 * tar layer (optionally gzip) holds `plugin.wasm` or exactly one `.wasm`
 * file. The layer was bounded and its digest checked when downloaded; here
 * the expansion is bounded too (a small gzip can inflate to gigabytes), and
 * whatever is found must start with the wasm magic number.
 */
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import { ModuleError, errorMessage } from "../../errors";

const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);

/** The module from a layer blob. `maxBytes` bounds the module and, times four, the expanded tar. */
export async function moduleFromLayer(blob: Buffer, format: "wasm" | "tar" | "tar+gzip", maxBytes: number, where: string): Promise<Buffer> {
  const module = format === "wasm" ? blob : await fromTar(blob, format === "tar+gzip" || isGzip(blob), maxBytes, where);
  if (!module.subarray(0, 4).equals(WASM_MAGIC)) {
    const head = module.subarray(0, 4).toString("hex") || "empty";
    throw new ModuleError("MODULE_INVALID", `${where}: the layer is not a wasm module (it starts with 0x${head}; expected the magic 0x0061736d)`);
  }
  return module;
}

function isGzip(b: Buffer): boolean {
  return b[0] === 0x1f && b[1] === 0x8b;
}

interface Found {
  readonly name: string;
  readonly bytes: Buffer;
}

async function fromTar(blob: Buffer, gzip: boolean, maxBytes: number, where: string): Promise<Buffer> {
  const maxExpanded = maxBytes * 4;
  let expanded = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      expanded += chunk.byteLength;
      if (expanded > maxExpanded) done(new ModuleError("MODULE_TOO_LARGE", `${where}: the layer expands to over ${maxExpanded} bytes`));
      else done(null, chunk);
    },
  });
  const found: Found[] = [];
  const names: string[] = [];
  const tar = extract();
  tar.on("entry", (header, stream, next) => {
    const name = header.name.replace(/^(\.\/|\/)+/, "");
    const wanted = header.type === "file" && name.endsWith(".wasm");
    // The pipeline reports why the tar stopped; an entry torn down with it must not throw on its own.
    stream.on("error", () => {});
    if (!wanted) {
      stream.on("end", next);
      stream.resume();
      return;
    }
    names.push(name);
    if ((header.size ?? 0) > maxBytes) {
      next(new ModuleError("MODULE_TOO_LARGE", `${where}: ${name} in the layer is ${header.size} bytes, over the ${maxBytes}-byte limit`));
      stream.resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    stream.on("end", () => {
      // Keep at most plugin.wasm and one other: enough to decide.
      if (name === "plugin.wasm" || found.length < 2) found.push({ name, bytes: Buffer.concat(chunks) });
      next();
    });
  });
  try {
    if (gzip) await pipeline(Readable.from([blob]), createGunzip(), limit, tar);
    else await pipeline(Readable.from([blob]), limit, tar);
  } catch (err) {
    if (err instanceof ModuleError) throw err;
    throw new ModuleError("MODULE_INVALID", `${where}: the layer is not a readable tar${gzip ? ".gz" : ""}: ${errorMessage(err)}`, { cause: err });
  }
  const plugin = found.find((f) => f.name === "plugin.wasm");
  if (plugin) return plugin.bytes;
  const [only] = found;
  if (names.length === 1 && only) return only.bytes;
  const list = names.length === 0 ? "no .wasm file" : `${names.length} .wasm files (${names.slice(0, 5).join(", ")})`;
  throw new ModuleError("MODULE_INVALID", `${where}: the layer holds ${list}; expected plugin.wasm or a single .wasm file`);
}
