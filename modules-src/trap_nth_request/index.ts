// trap_nth_request (fixture, HTTP, root_id "trap_nth_request"): traps on the
// Nth request.
//
// Configuration: {"crashAfter": N}, N a positive integer, default 50 (also
// when the configuration is empty); anything else makes on_configure return
// false. The root context counts request-header calls (one per request) and
// logs each count at debug; on_request_headers of request number N hits
// `unreachable`, i.e. requests 1..N-1 pass and request N traps. The count
// lives in the VM, so it starts again from 0 when Envoy re-creates the VM.
export * from "@solo-io/proxy-runtime/proxy";
import { Context, FilterHeadersStatusValues, LogLevelValues, RootContext, log } from "@solo-io/proxy-runtime";
import { readPluginConfiguration, registerRoot } from "../common/host";
import { isNonNegativeInteger, parseJson } from "../common/json";

class TrapNthRoot extends RootContext {
  crashAfter: u64 = 50;
  requests: u64 = 0;

  createContext(context_id: u32): Context {
    return new TrapNth(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    const text = readPluginConfiguration(configuration_size);
    if (text.length == 0) return true;
    const json = parseJson(text);
    if (json === null || !json.isObject()) return false;
    for (let i = 0; i < json.keys.length; i++) {
      const value = json.values[i];
      if (json.keys[i] != "crashAfter" || !isNonNegativeInteger(value) || value.numberValue < 1) return false;
      this.crashAfter = <u64>value.numberValue;
    }
    log(LogLevelValues.info, "trap_nth_request: will trap on request " + this.crashAfter.toString());
    return true;
  }
}

class TrapNth extends Context {
  root: TrapNthRoot;

  constructor(context_id: u32, root: TrapNthRoot) {
    super(context_id, root);
    this.root = root;
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const n = ++this.root.requests;
    log(LogLevelValues.debug, "trap_nth_request: request " + n.toString() + " of " + this.root.crashAfter.toString());
    if (n == this.root.crashAfter) unreachable();
    return FilterHeadersStatusValues.Continue;
  }
}

registerRoot("trap_nth_request", (context_id: u32): RootContext => new TrapNthRoot(context_id));
