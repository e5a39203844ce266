/**
 * The static part of the pre-flight check: everything Envoy verifies before
 * running any module code (docs/ENVOY.md "proxy-wasm ABI" and "What Envoy
 * does when a module is bad"). Envoy stops at the first problem; this check
 * reports all of them so an author can fix the module in one go.
 */
import { ALLOCATOR_SIG, ALLOCATORS, callbackSignature, startFunctionSignature } from "../abi/callbacks";
import { abiVersionsProviding, hostFunction } from "../abi/host-functions";
import type { ModuleExport, ModuleInterface } from "../abi/module-interface";
import { type FuncSig, formatSig, sameSig } from "../abi/signature";
import { ABI_MARKERS, ABI_VERSIONS, type AbiVersion, abiVersionOfMarker, looksLikeAbiMarker } from "../abi/versions";

export type AbiCheck = { ok: true; abiVersion: AbiVersion } | { ok: false; problems: string[] };

function abiVersionOf(functions: readonly ModuleExport[]): AbiVersion | string {
  const markers = functions.filter((e) => looksLikeAbiMarker(e.name)).map((e) => e.name);
  const known = markers.filter((m) => abiVersionOfMarker(m) !== undefined);
  const expected = ABI_VERSIONS.map((v) => ABI_MARKERS[v]).join(", ");
  if (known.length === 0) {
    const unknown = markers.length > 0 ? ` (it exports ${markers.join(", ")}, which Envoy does not know)` : "";
    return `Missing or unknown Proxy-Wasm ABI version: the module must export one of ${expected}${unknown}`;
  }
  if (markers.length > 1) {
    return `the module exports ${markers.length} ABI version markers (${markers.join(", ")}); Envoy expects exactly one`;
  }
  return abiVersionOfMarker(known[0] as string) as AbiVersion;
}

function exportSignatureProblem(e: ModuleExport, want: FuncSig, abi: AbiVersion): string | undefined {
  if (!e.signature || sameSig(e.signature, want)) return undefined;
  return `export ${e.name} has signature ${formatSig(e.signature)}, Envoy expects ${formatSig(want)} for ABI ${abi}`;
}

export function checkAbi(iface: ModuleInterface): AbiCheck {
  const functions = iface.exports.filter((e) => e.kind === "function");
  const version = abiVersionOf(functions);
  if (!ABI_VERSIONS.includes(version as AbiVersion)) return { ok: false, problems: [version] };
  const abi = version as AbiVersion;
  const problems: string[] = [];
  const byName = new Map(functions.map((e) => [e.name, e]));

  const hasMemory = iface.exports.some((e) => e.kind === "memory") || iface.imports.some((i) => i.kind === "memory");
  if (!hasMemory) problems.push("the module exports no memory; Envoy needs access to the module's linear memory");

  // Envoy takes malloc if exported (and fails on a bad signature) before trying proxy_on_memory_allocate.
  const allocator = ALLOCATORS.map((n) => byName.get(n)).find((e) => e !== undefined);
  if (!allocator) {
    problems.push(
      `the module exports neither malloc nor proxy_on_memory_allocate ${formatSig(ALLOCATOR_SIG)} (Envoy: "Wasm module is missing malloc function.")`,
    );
  } else {
    const p = exportSignatureProblem(allocator, ALLOCATOR_SIG, abi);
    if (p) problems.push(p);
  }

  for (const imp of iface.imports) {
    const key = `${imp.module}.${imp.name}`;
    if (imp.kind === "global" || imp.kind === "tag") {
      problems.push(`imports ${imp.kind} ${key}: Envoy cannot link ${imp.kind} imports`);
      continue;
    }
    if (imp.kind !== "function") continue; // memories and tables are created by the host
    const provided = hostFunction(abi, imp.module, imp.name);
    if (!provided) {
      const elsewhere = abiVersionsProviding(imp.module, imp.name);
      problems.push(
        elsewhere.length > 0
          ? `import ${key} is not provided by Envoy for ABI ${abi} (only for ABI ${elsewhere.join(", ")})`
          : `import ${key} is not provided by Envoy`,
      );
    } else if (imp.signature && !sameSig(imp.signature, provided)) {
      problems.push(`import ${key} has signature ${formatSig(imp.signature)}, Envoy provides ${formatSig(provided)}`);
    }
  }

  const hasInitialize = byName.has("_initialize");
  for (const e of functions) {
    if ((e.name === "main" || e.name === "__main_void") && !hasInitialize) continue;
    const want = startFunctionSignature(e.name) ?? callbackSignature(abi, e.name);
    if (!want) continue;
    const p = exportSignatureProblem(e, want, abi);
    if (p) problems.push(p);
  }

  return problems.length > 0 ? { ok: false, problems } : { ok: true, abiVersion: abi };
}
