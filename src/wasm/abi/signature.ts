/**
 * Wasm function signatures as plain data, so the ABI tables, the binary
 * reader and the pre-flight messages all speak the same notation:
 * `(i32,i32,i32)->i32`, with `void` for "no result" as Envoy's V8 glue
 * prints it (proxy-wasm-cpp-host src/v8/v8.cc printValTypes).
 */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref" | "ref";

export interface FuncSig {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** Builds a signature from space-separated value types: `sig("i32 i64", "i32")`. */
export function sig(params: string, results = ""): FuncSig {
  const split = (s: string): ValType[] => (s.trim() === "" ? [] : (s.trim().split(/\s+/) as ValType[]));
  return Object.freeze({ params: Object.freeze(split(params)), results: Object.freeze(split(results)) });
}

/** `n` i32 parameters and one i32 result: the shape of almost every proxy_* import. */
export function i32s(n: number, result: "i32" | "void" = "i32"): FuncSig {
  return sig(Array.from({ length: n }, () => "i32").join(" "), result === "void" ? "" : "i32");
}

export function formatSig(s: FuncSig): string {
  const results = s.results.length === 0 ? "void" : s.results.join(",");
  return `(${s.params.join(",")})->${results}`;
}

export function sameSig(a: FuncSig, b: FuncSig): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) &&
    a.results.every((t, i) => t === b.results[i])
  );
}
