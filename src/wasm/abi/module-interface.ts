/**
 * Reads a module's interface (imports and exports with their function
 * signatures, memory limits) straight from the binary. Node 20's
 * WebAssembly.Module.imports()/exports() give names and kinds but no types,
 * and Envoy's link step and callback lookup both compare exact signatures
 * (proxy-wasm-cpp-host src/v8/v8.cc link and getModuleFunctionImpl), so the
 * pre-flight check needs them. Only the type, import, function, memory and
 * export sections are decoded; everything else is skipped by its size.
 */
import { ByteReader, WasmParseError } from "./byte-reader";
import type { FuncSig, ValType } from "./signature";

export type ExternKind = "function" | "table" | "memory" | "global" | "tag";

export interface Limits {
  /** In pages of 64 KiB for memories, elements for tables. */
  readonly min: number;
  readonly max?: number;
  readonly shared: boolean;
  readonly is64: boolean;
}

export interface ModuleImport {
  readonly module: string;
  readonly name: string;
  readonly kind: ExternKind;
  /** For function imports. */
  readonly signature?: FuncSig;
  /** For memory and table imports. */
  readonly limits?: Limits;
  /** For table imports. */
  readonly element?: ValType;
}

export interface ModuleExport {
  readonly name: string;
  readonly kind: ExternKind;
  /** For function exports. */
  readonly signature?: FuncSig;
}

export interface ModuleInterface {
  readonly imports: readonly ModuleImport[];
  readonly exports: readonly ModuleExport[];
  /** Memories the module defines itself (not imported). */
  readonly memories: readonly Limits[];
}

const KINDS: readonly ExternKind[] = ["function", "table", "memory", "global", "tag"];

const VALTYPES: ReadonlyMap<number, ValType> = new Map<number, ValType>([
  [0x7f, "i32"],
  [0x7e, "i64"],
  [0x7d, "f32"],
  [0x7c, "f64"],
  [0x7b, "v128"],
  [0x70, "funcref"],
  [0x6f, "externref"],
]);
/** Abstract heap type shorthands (GC, exceptions): reference types we only need to step over. */
const SHORTHAND_REFS = new Set([0x6e, 0x6d, 0x6c, 0x6b, 0x6a, 0x69, 0x71, 0x72, 0x73, 0x74]);

function valType(r: ByteReader, what: string): ValType {
  const at = r.offset;
  const b = r.u8(what);
  const known = VALTYPES.get(b);
  if (known) return known;
  if (SHORTHAND_REFS.has(b)) return "ref";
  if (b === 0x63 || b === 0x64) {
    r.skipSigned(`${what} heap type`, 5);
    return "ref";
  }
  throw new WasmParseError(`${what}: unknown value type 0x${b.toString(16)}`, at);
}

function vecOf<T>(r: ByteReader, what: string, item: (r: ByteReader, i: number) => T): T[] {
  const count = r.u32(`${what} count`);
  // Each entry takes at least one byte: a bigger count is corrupt, and this bounds allocation.
  if (count > r.remaining) r.fail(`${what} count ${count} exceeds the section size`);
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(item(r, i));
  return out;
}

function limits(r: ByteReader, what: string): Limits {
  const at = r.offset;
  const flags = r.u8(`${what} limits flags`);
  if (flags > 0x07) throw new WasmParseError(`${what}: unknown limits flags 0x${flags.toString(16)}`, at);
  const is64 = (flags & 0x04) !== 0;
  const read = (w: string) => (is64 ? r.u64(w) : r.u32(w));
  const min = read(`${what} minimum`);
  const max = (flags & 0x01) !== 0 ? read(`${what} maximum`) : undefined;
  return max === undefined
    ? { min, shared: (flags & 0x02) !== 0, is64 }
    : { min, max, shared: (flags & 0x02) !== 0, is64 };
}

/** One composite type (after an optional sub-type prefix); undefined for struct/array types. */
function compositeType(r: ByteReader, what: string): FuncSig | undefined {
  const at = r.offset;
  return compositeFromForm(r, r.u8(what), what, at);
}

function storageAndMut(r: ByteReader, what: string): void {
  const at = r.offset;
  const b = r.u8(what);
  if (b !== 0x78 && b !== 0x77) {
    if (VALTYPES.has(b) || SHORTHAND_REFS.has(b)) {
      // plain value type: nothing more to read
    } else if (b === 0x63 || b === 0x64) {
      r.skipSigned(`${what} heap type`, 5);
    } else {
      throw new WasmParseError(`${what}: unknown storage type 0x${b.toString(16)}`, at);
    }
  }
  r.u8(`${what} mutability`);
}

/** The type section: one entry per type index (rec groups contribute each member). */
function typeSection(r: ByteReader): (FuncSig | undefined)[] {
  const types: (FuncSig | undefined)[] = [];
  const subType = (rr: ByteReader, what: string): void => {
    const b = rr.u8(what);
    if (b === 0x50 || b === 0x4f) {
      vecOf(rr, `${what} supertypes`, (x) => x.u32(`${what} supertype`));
      types.push(compositeType(rr, what));
    } else {
      // Not a sub-type prefix: the byte was the composite form itself.
      types.push(compositeFromForm(rr, b, what, rr.offset - 1));
    }
  };
  const count = r.u32("type count");
  if (count > r.remaining) r.fail(`type count ${count} exceeds the section size`);
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const b = r.u8(`type ${i}`);
    if (b === 0x4e) {
      const members = r.u32(`type ${i} rec group size`);
      if (members > r.remaining) r.fail(`type ${i} rec group size ${members} exceeds the section size`);
      for (let m = 0; m < members; m++) subType(r, `type ${i} rec member ${m}`);
    } else if (b === 0x50 || b === 0x4f) {
      vecOf(r, `type ${i} supertypes`, (x) => x.u32(`type ${i} supertype`));
      types.push(compositeType(r, `type ${i}`));
    } else {
      types.push(compositeFromForm(r, b, `type ${i}`, at));
    }
  }
  return types;
}

function compositeFromForm(r: ByteReader, form: number, what: string, at: number): FuncSig | undefined {
  if (form === 0x60) {
    const params = vecOf(r, `${what} params`, (rr) => valType(rr, `${what} param`));
    const results = vecOf(r, `${what} results`, (rr) => valType(rr, `${what} result`));
    return { params, results };
  }
  if (form === 0x5f) {
    vecOf(r, `${what} fields`, (rr) => storageAndMut(rr, `${what} field`));
    return undefined;
  }
  if (form === 0x5e) {
    storageAndMut(r, `${what} element`);
    return undefined;
  }
  throw new WasmParseError(`${what}: unknown type form 0x${form.toString(16)}`, at);
}

interface RawImport {
  module: string;
  name: string;
  kind: ExternKind;
  typeIndex?: number;
  limits?: Limits;
  element?: ValType;
}

function importEntry(r: ByteReader, i: number): RawImport {
  const module = r.name(`import ${i} module name`);
  const name = r.name(`import ${i} field name`);
  const what = `import ${module}.${name}`;
  const at = r.offset;
  const kindByte = r.u8(`${what} kind`);
  switch (kindByte) {
    case 0x00:
      return { module, name, kind: "function", typeIndex: r.u32(`${what} type index`) };
    case 0x01: {
      const element = valType(r, `${what} element type`);
      return { module, name, kind: "table", element, limits: limits(r, what) };
    }
    case 0x02:
      return { module, name, kind: "memory", limits: limits(r, what) };
    case 0x03:
      valType(r, `${what} global type`);
      r.u8(`${what} mutability`);
      return { module, name, kind: "global" };
    case 0x04:
      r.u8(`${what} tag attribute`);
      return { module, name, kind: "tag", typeIndex: r.u32(`${what} tag type`) };
    default:
      throw new WasmParseError(`${what}: unknown import kind 0x${kindByte.toString(16)}`, at);
  }
}

/** Decodes the interface of a wasm binary; throws WasmParseError (code MODULE_INVALID) on bad bytes. */
export function readModuleInterface(bytes: Uint8Array): ModuleInterface {
  const r = new ByteReader(bytes);
  const magic = r.bytesOf(Math.min(4, r.remaining), "magic number");
  if (magic.length < 4 || magic[0] !== 0 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) {
    throw new WasmParseError("not a wasm binary: expected magic number 00 61 73 6d", 0);
  }
  const version = r.bytesOf(Math.min(4, r.remaining), "version");
  if (version.length < 4 || version[0] !== 1 || version[1] !== 0 || version[2] !== 0 || version[3] !== 0) {
    throw new WasmParseError("unsupported wasm binary version (expected a core module, version 1)", 4);
  }

  let types: (FuncSig | undefined)[] = [];
  let rawImports: RawImport[] = [];
  let functionTypes: number[] = [];
  let memories: Limits[] = [];
  let rawExports: { name: string; kind: ExternKind; index: number }[] = [];

  while (!r.atEnd()) {
    const id = r.u8("section id");
    const size = r.u32(`section ${id} size`);
    const s = r.sub(size, `section ${id}`);
    switch (id) {
      case 1:
        types = typeSection(s);
        break;
      case 2:
        rawImports = vecOf(s, "import", importEntry);
        break;
      case 3:
        functionTypes = vecOf(s, "function", (x, i) => x.u32(`function ${i} type index`));
        break;
      case 5:
        memories = vecOf(s, "memory", (x, i) => limits(x, `memory ${i}`));
        break;
      case 7:
        rawExports = vecOf(s, "export", (x, i) => {
          const name = x.name(`export ${i} name`);
          const at = x.offset;
          const k = x.u8(`export ${name} kind`);
          const kind = KINDS[k];
          if (kind === undefined) throw new WasmParseError(`export ${name}: unknown kind 0x${k.toString(16)}`, at);
          return { name, kind, index: x.u32(`export ${name} index`) };
        });
        break;
      default:
        break; // custom and other sections carry nothing the ABI check needs
    }
  }

  const sigOf = (typeIndex: number, what: string): FuncSig => {
    const t = types[typeIndex];
    if (t === undefined) throw new WasmParseError(`${what}: type index ${typeIndex} is not a function type`, 0);
    return t;
  };
  const imports: ModuleImport[] = rawImports.map((imp) => {
    const base = { module: imp.module, name: imp.name, kind: imp.kind };
    if (imp.kind === "function" && imp.typeIndex !== undefined) {
      return { ...base, signature: sigOf(imp.typeIndex, `import ${imp.module}.${imp.name}`) };
    }
    if (imp.kind === "table" && imp.limits && imp.element) return { ...base, limits: imp.limits, element: imp.element };
    return imp.limits ? { ...base, limits: imp.limits } : base;
  });
  const importedFunctionTypes = rawImports.filter((i) => i.kind === "function").map((i) => i.typeIndex ?? -1);
  const functionSig = (index: number, what: string): FuncSig => {
    const typeIndex =
      index < importedFunctionTypes.length
        ? importedFunctionTypes[index]
        : functionTypes[index - importedFunctionTypes.length];
    if (typeIndex === undefined) throw new WasmParseError(`${what}: function index ${index} is out of range`, 0);
    return sigOf(typeIndex, what);
  };
  const exports: ModuleExport[] = rawExports.map((e) =>
    e.kind === "function"
      ? { name: e.name, kind: e.kind, signature: functionSig(e.index, `export ${e.name}`) }
      : { name: e.name, kind: e.kind },
  );
  return Object.freeze({ imports, exports, memories });
}
