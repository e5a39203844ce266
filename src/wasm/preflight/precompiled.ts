/**
 * What Envoy would do with a module's precompiled code (docs/ENVOY.md
 * "Precompiled modules"; proxy-wasm-cpp-host src/wasm.cc WasmBase::load,
 * src/bytecode_util.cc, src/v8/v8.cc, src/wamr/wamr.cc,
 * src/wasmtime/wasmtime.cc). With allow_precompiled, the runtime looks for
 * one custom section by its exact name: V8 `precompiled_wee8_v<V8
 * version>_<platform>`, Wasmtime `precompiled_wasmtime_v<version>_<platform>`,
 * WAMR `wamr-aot`; a V8 or Wasmtime build without a platform name looks for
 * none. A match is deserialized instead of compiling the bytecode, and a
 * match that does not deserialize fails the load. Sections whose name holds
 * `precompiled_` are stripped before the bytecode is compiled, whatever the
 * setting. The pre-flight check compiles the bytecode in Node's V8, so it
 * can only report what the sections are and which ones the runtime would
 * consider; it cannot know the exact V8 build of a given Envoy.
 */
import type { WasmRuntimeName } from "../../vocabulary/wasm-vm";

/** Custom section names in order; stops quietly at the first malformed section (compile reports that). */
export function customSectionNames(bytes: Uint8Array): string[] {
  const names: string[] = [];
  if (bytes.length < 8) return names;
  let pos = 8; // magic and version
  const leb = (): number | undefined => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = bytes[pos++];
      if (b === undefined) return undefined;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    return undefined;
  };
  const decoder = new TextDecoder("utf-8", { fatal: false });
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = leb();
    if (id === undefined || size === undefined || pos + size > bytes.length) break;
    const end = pos + size;
    if (id === 0) {
      const nameLen = leb();
      if (nameLen === undefined || pos + nameLen > end) break;
      names.push(decoder.decode(bytes.subarray(pos, pos + nameLen)));
    }
    pos = end;
  }
  return names;
}

export interface PrecompiledReport {
  /** Sections that hold precompiled code for some runtime. */
  readonly sections: readonly string[];
  /** What Envoy would do with them, in one sentence. */
  readonly note: string;
}

const V8_PREFIX = "precompiled_wee8_v";
const WASMTIME_PREFIX = "precompiled_wasmtime_v";
const WAMR_SECTION = "wamr-aot";

function isPrecompiled(name: string): boolean {
  return name.includes("precompiled_") || name === WAMR_SECTION;
}

/** The runtime's candidates among `sections` (names with its prefix; Envoy then wants one exact name). */
function candidates(runtime: WasmRuntimeName, sections: readonly string[]): string[] {
  if (runtime === "wamr") return sections.filter((s) => s === WAMR_SECTION);
  const prefix = runtime === "v8" ? V8_PREFIX : WASMTIME_PREFIX;
  return sections.filter((s) => s.startsWith(prefix));
}

/** The report for the check result; undefined when the module has no precompiled code and none was allowed. */
export function precompiledReport(sectionNames: readonly string[], runtime: WasmRuntimeName, allowPrecompiled: boolean): PrecompiledReport | undefined {
  const sections = sectionNames.filter(isPrecompiled);
  if (sections.length === 0) {
    return allowPrecompiled ? { sections, note: "allowPrecompiled is set, but the module has no precompiled section: Envoy compiles the bytecode" } : undefined;
  }
  const list = sections.join(", ");
  if (!allowPrecompiled) {
    return { sections, note: `ignored: allowPrecompiled is not set, so Envoy compiles the bytecode (sections named precompiled_* are stripped first): ${list}` };
  }
  const mine = candidates(runtime, sections);
  if (mine.length === 0) {
    return { sections, note: `ignored: none is for ${runtime} (Envoy's ${runtime} looks for ${sectionPattern(runtime)}), so Envoy compiles the bytecode: ${list}` };
  }
  if (runtime === "wamr") {
    return { sections, note: `used: Envoy's WAMR loads ${WAMR_SECTION} as AOT code instead of the bytecode; an AOT build for another WAMR version fails the load` };
  }
  return {
    sections,
    note:
      `used only by an Envoy whose ${runtime} build has exactly this name, ignored by any other (it then compiles the bytecode): ${mine.join(", ")}; ` +
      "a matching section that does not deserialize fails the load. The pre-flight check compiled the bytecode",
  };
}

function sectionPattern(runtime: WasmRuntimeName): string {
  if (runtime === "wamr") return WAMR_SECTION;
  return runtime === "v8" ? `${V8_PREFIX}<V8 version>_<platform>` : `${WASMTIME_PREFIX}<version>_<platform>`;
}
