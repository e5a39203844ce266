/**
 * Istio's two ways of configuring Wasm filters, turned into wasmxds.yaml
 * `filters` entries (`wasmxds import`, docs/CONFIG.md "Importing Istio
 * configs"): WasmPlugin (extensions.istio.io) and EnvoyFilter
 * (networking.istio.io) patches that insert an Envoy Wasm filter. Pure: the
 * command reads the files and prints. What cannot be carried over is said,
 * never dropped silently: each note names the document and the field.
 */
import { NAME_PATTERN } from "../config/fields";
import { WASM_RUNTIMES, type WasmRuntimeName } from "../vocabulary/wasm-vm";

/** A wasmxds filter entry, as it will be written in YAML. */
export type ImportedFilter = Record<string, unknown> & { name: string; kind: "http" | "network" };

export interface ImportResult {
  readonly filters: ImportedFilter[];
  /** What was not carried over, or needs the user, one line each. */
  readonly notes: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

const WASM_TYPES = new Set(["envoy.extensions.filters.http.wasm.v3.Wasm", "envoy.extensions.filters.network.wasm.v3.Wasm"]);
const typeName = (url: string | undefined): string => (url ?? "").slice((url ?? "").lastIndexOf("/") + 1);

/** Istio phases in the order Istio inserts them (AUTHN first); unset runs after them, just before the router. */
const PHASE_ORDER = ["AUTHN", "AUTHZ", "STATS"];

interface Ordered {
  readonly filter: ImportedFilter;
  readonly phase: number;
  readonly priority: number;
}

/** Converts every document of every file; `docs` are parsed YAML documents with their source names. */
export function importIstio(docs: readonly { readonly source: string; readonly doc: unknown }[]): ImportResult {
  const notes: string[] = [];
  const ordered: Ordered[] = [];
  const names = new Set<string>();
  const unique = (wanted: string): string => {
    let name = sanitize(wanted);
    for (let i = 2; names.has(name); i++) name = `${sanitize(wanted)}-${i}`;
    names.add(name);
    return name;
  };
  for (const { source, doc } of docs) {
    if (doc === null || doc === undefined) continue;
    const kind = str(obj(doc).kind);
    const where = `${source}: ${kind ?? "document"} ${JSON.stringify(str(obj(obj(doc).metadata).name) ?? "")}`;
    if (kind === "WasmPlugin") ordered.push(fromWasmPlugin(obj(doc), where, unique, notes));
    else if (kind === "EnvoyFilter") {
      for (const f of fromEnvoyFilter(obj(doc), where, unique, notes)) ordered.push({ filter: f, phase: PHASE_ORDER.length, priority: 0 });
    } else notes.push(`${where}: skipped: not a WasmPlugin or EnvoyFilter`);
  }
  // Istio runs lower phases first and, within a phase, higher priority first.
  ordered.sort((a, b) => a.phase - b.phase || b.priority - a.priority);
  if (ordered.length > 1) {
    notes.push(`order: phase and priority become positions in each listener's filters list; list them as ${ordered.map((o) => o.filter.name).join(", ")}`);
  }
  return { filters: ordered.map((o) => o.filter), notes };
}

function sanitize(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 100);
  return NAME_PATTERN.test(cleaned) ? cleaned : "imported";
}

function fromWasmPlugin(doc: Obj, where: string, unique: (n: string) => string, notes: string[]): Ordered {
  const spec = obj(doc.spec);
  const note = (field: string, why: string) => notes.push(`${where}: spec.${field}: ${why}`);
  const f: ImportedFilter = { name: unique(str(obj(doc.metadata).name) ?? "imported"), kind: str(spec.type) === "NETWORK" ? "network" : "http" };
  const url = str(spec.url) ?? "";
  if (url.startsWith("file://")) f.hostPath = url.slice("file://".length);
  else if (url.startsWith("https://") || url.startsWith("oci://")) f.url = url;
  else if (url.startsWith("http://")) {
    f.url = url;
    f.insecure = true;
    note("url", "plain http: carried over with insecure: true; prefer https");
  } else if (url !== "") {
    // Istio reads a URL without a scheme as an OCI image reference.
    f.url = `oci://${url}`;
  } else note("url", "missing: set module, url or hostPath");
  if (str(spec.sha256)) f.sha256 = spec.sha256;
  else if (f.hostPath !== undefined || (typeof f.url === "string" && f.url.startsWith("https"))) note("sha256", "missing; wasmxds requires the module's sha256 here");
  const policy = str(spec.imagePullPolicy);
  if (policy && policy !== "UNSPECIFIED_POLICY") f.pullPolicy = policy;
  if (str(spec.imagePullSecret)) note("imagePullSecret", "a Kubernetes Secret name; give the registry credentials with pullSecret instead");
  if (str(spec.pluginName)) f.rootId = spec.pluginName;
  if (spec.pluginConfig !== undefined) f.configuration = spec.pluginConfig;
  const fail = str(spec.failStrategy);
  if (fail === "FAIL_OPEN") f.failurePolicy = "FAIL_OPEN";
  else if (fail === "FAIL_RELOAD") f.failurePolicy = "FAIL_RELOAD";
  const env = envFromIstio(obj(spec.vmConfig).env, (why) => note("vmConfig.env", why));
  if (env) f.env = env;
  const labels = obj(obj(spec.selector).matchLabels);
  if (Object.keys(labels).length > 0) f.selector = labelSelector(labels, (why) => note("selector.matchLabels", why));
  if (spec.targetRefs !== undefined || spec.targetRef !== undefined) note("targetRefs", "not carried over: wasmxds selects nodes by selector, not by Gateway or Service");
  if (spec.match !== undefined) note("match", "not carried over: traffic modes and ports become which listeners list the filter");
  const phase = PHASE_ORDER.indexOf(str(spec.phase) ?? "");
  const priority = typeof spec.priority === "number" ? spec.priority : 0;
  return { filter: f, phase: phase < 0 ? PHASE_ORDER.length : phase, priority };
}

function envFromIstio(list: unknown, note: (why: string) => void): { hostKeys?: string[]; values?: Record<string, string> } | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const hostKeys: string[] = [];
  const values: Record<string, string> = {};
  for (const e of list) {
    const name = str(obj(e).name);
    if (!name) continue;
    if (str(obj(e).valueFrom) === "HOST") hostKeys.push(name);
    else values[name] = str(obj(e).value) ?? "";
  }
  if (hostKeys.length > 0) note(`host keys ${hostKeys.join(", ")}: give the pre-flight check values with preflightEnv`);
  return { ...(hostKeys.length > 0 && { hostKeys }), ...(Object.keys(values).length > 0 && { values }) };
}

function labelSelector(labels: Obj, note: (why: string) => void): { metadata: Record<string, string> } {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) metadata[k] = String(v);
  note("became selector.metadata: Istio's proxies carry workload labels under node metadata LABELS, wasmxds matches top-level node metadata keys; make the nodes carry them there");
  return { metadata };
}

function fromEnvoyFilter(doc: Obj, where: string, unique: (n: string) => string, notes: string[]): ImportedFilter[] {
  const spec = obj(doc.spec);
  const out: ImportedFilter[] = [];
  const patches = Array.isArray(spec.configPatches) ? spec.configPatches : [];
  for (const [i, p] of patches.entries()) {
    const patch = obj(obj(p).patch);
    const value = obj(patch.value);
    const at = `${where}: spec.configPatches[${i}]`;
    const typed = obj(value.typed_config ?? value.typedConfig);
    const direct = WASM_TYPES.has(typeName(str(typed["@type"])));
    const viaStruct = WASM_TYPES.has(typeName(str(typed.type_url ?? typed.typeUrl)));
    if (!direct && !viaStruct) {
      notes.push(`${at}: skipped: not an Envoy Wasm filter`);
      continue;
    }
    const applyTo = str(obj(p).applyTo);
    const kind = applyTo === "NETWORK_FILTER" ? "network" : "http";
    const config = obj(viaStruct ? obj(typed.value).config : typed.config);
    const f: ImportedFilter = { name: unique(str(config.name) || str(value.name) || "imported"), kind };
    out.push(f);
    position(obj(p), kind, (why) => notes.push(`${at}: ${why}`));
    pluginFields(config, f, (field, why) => notes.push(`${at}: ${field}: ${why}`));
    const labels = obj(obj(spec.workloadSelector).labels);
    if (Object.keys(labels).length > 0) f.selector = labelSelector(labels, (why) => notes.push(`${where}: spec.workloadSelector.labels ${why}`));
  }
  return out;
}

function position(p: Obj, kind: "http" | "network", note: (why: string) => void): void {
  const op = str(obj(p.patch).operation) ?? "";
  const filter = obj(obj(obj(obj(p.match).listener).filterChain).filter);
  const anchor = kind === "http" ? str(obj(filter.subFilter).name) : str(filter.name);
  const last = kind === "http" ? "envoy.filters.http.router" : "envoy.filters.network.tcp_proxy";
  const port = obj(p.match).listener !== undefined ? obj(obj(p.match).listener).portNumber : undefined;
  const listener = kind === "http" ? "an http listener" : "a tcp listener";
  if (!(op === "INSERT_BEFORE" && anchor === last) && op !== "INSERT_FIRST") {
    note(`patch ${op || "(no operation)"}${anchor ? ` relative to ${anchor}` : ""}: wasmxds runs the wasm filters in the order a listener lists them, before ${last}; place it there`);
  }
  note(`add it to the filters of ${listener}${typeof port === "number" ? ` (the proxy's port ${port})` : ""}; the match context (${str(obj(p.match).context) ?? "ANY"}) is not carried over`);
}

function pluginFields(config: Obj, f: ImportedFilter, note: (field: string, why: string) => void): void {
  if (str(config.root_id)) f.rootId = config.root_id;
  const pluginConf = stringValue(config.configuration);
  if (pluginConf !== undefined) f.configuration = pluginConf;
  if (config.fail_open === true) f.failurePolicy = "FAIL_OPEN";
  const policy = str(config.failure_policy);
  if (policy === "FAIL_OPEN" || policy === "FAIL_CLOSED" || policy === "FAIL_RELOAD") f.failurePolicy = policy;
  const vm = obj(config.vm_config);
  if (str(vm.vm_id)) f.vmId = sanitize(vm.vm_id as string);
  const runtime = str(vm.runtime)?.replace(/^envoy\.wasm\.runtime\./, "");
  if (runtime && runtime !== "v8") {
    if ((WASM_RUNTIMES as readonly string[]).includes(runtime)) f.runtime = runtime as WasmRuntimeName;
    else note("vm_config.runtime", `${str(vm.runtime)} is not offered (v8, wamr, wasmtime); left at v8`);
  }
  if (vm.allow_precompiled === true) f.allowPrecompiled = true;
  const vmConf = stringValue(vm.configuration);
  if (vmConf !== undefined) f.vmConfiguration = vmConf;
  const env = obj(vm.environment_variables);
  const hostKeys = Array.isArray(env.host_env_keys) ? env.host_env_keys.filter((k): k is string => typeof k === "string") : [];
  const values = obj(env.key_values);
  if (hostKeys.length > 0 || Object.keys(values).length > 0) {
    f.env = { ...(hostKeys.length > 0 && { hostKeys }), ...(Object.keys(values).length > 0 && { values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])) }) };
  }
  const code = obj(vm.code);
  const local = obj(code.local);
  const remote = obj(code.remote);
  if (str(local.filename)) {
    f.hostPath = local.filename;
    note("vm_config.code.local.filename", "became hostPath; add sha256 (sha256sum of the file deployed on the proxies), which wasmxds requires");
  } else if (str(obj(remote.http_uri).uri)) {
    f.url = obj(remote.http_uri).uri;
    if (str(remote.sha256)) f.sha256 = remote.sha256;
    note("vm_config.code.remote", "became url: wasmxds fetches it once and serves it from its module server (http_uri.cluster, timeout and retries are its own)");
  } else {
    note("vm_config.code", "inline code is not carried over: save the module as a .wasm file in the config folder and set module");
  }
}

/** A google.protobuf.StringValue as EnvoyFilter YAML writes it (`{"@type": ..., value: ...}`), or a plain string. */
function stringValue(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (isObj(v) && typeof v.value === "string") return v.value;
  return undefined;
}
