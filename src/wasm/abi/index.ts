export { ByteReader, WasmParseError } from "./byte-reader";
export {
  ALLOCATOR_SIG,
  ALLOCATORS,
  callbackSignature,
  callbacksFor,
  START_FUNCTIONS,
  startFunctionSignature,
} from "./callbacks";
export {
  BUFFER_TYPE_MAX,
  BufferType,
  FilterDataStatus,
  FilterHeadersStatus,
  FilterStatus,
  FilterTrailersStatus,
  HEADER_MAP_TYPE_MAX,
  HeaderMapType,
  LOG_LEVEL_NAMES,
  LogLevel,
  type LogLevelName,
  type MetricKind,
  MetricType,
  PeerType,
  STREAM_TYPE_MAX,
  StreamType,
  WasmResult,
} from "./enums";
export { abiVersionsProviding, hostFunction, hostFunctionsFor, WASI_MODULES, type WasiModule } from "./host-functions";
export {
  type ExternKind,
  type Limits,
  type ModuleExport,
  type ModuleImport,
  type ModuleInterface,
  readModuleInterface,
} from "./module-interface";
export { type FuncSig, formatSig, i32s, sameSig, sig, type ValType } from "./signature";
export { ABI_MARKERS, ABI_VERSIONS, type AbiVersion, abiVersionOfMarker, looksLikeAbiMarker } from "./versions";
