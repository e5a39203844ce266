// fail_ratio (fixture, HTTP, root_id "fail_ratio"): answers 500 to a share
// of requests without ever trapping, for canary analysis tests.
//
// Configuration: {"failPermille": N}, N an integer from 0 to 1000, default
// 100 (10%, also when the configuration is empty); anything else makes
// on_configure return false. Per mille rather than per cent so that 0.1%
// (failPermille 1) can be expressed. The root context counts request-header
// calls (one per request); request number n gets a local reply 500 with
// details "fail_ratio" when floor(n * N / 1000) > floor((n - 1) * N / 1000),
// i.e. exactly N of every 1000 consecutive requests, spread evenly and
// deterministically (the first failure is request ceil(1000 / N)). Other
// requests continue untouched. The count lives in the VM.
export * from "@solo-io/proxy-runtime/proxy";
import { Context, FilterHeadersStatusValues, GrpcStatusValues, HeaderPair, LogLevelValues, RootContext, log, send_local_response } from "@solo-io/proxy-runtime";
import { readPluginConfiguration, registerRoot } from "../common/host";
import { isNonNegativeInteger, parseJson } from "../common/json";

class FailRatioRoot extends RootContext {
  failPermille: u64 = 100;
  requests: u64 = 0;

  createContext(context_id: u32): Context {
    return new FailRatio(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    const text = readPluginConfiguration(configuration_size);
    if (text.length == 0) return true;
    const json = parseJson(text);
    if (json === null || !json.isObject()) return false;
    for (let i = 0; i < json.keys.length; i++) {
      const value = json.values[i];
      if (json.keys[i] != "failPermille" || !isNonNegativeInteger(value) || value.numberValue > 1000) return false;
      this.failPermille = <u64>value.numberValue;
    }
    log(LogLevelValues.info, "fail_ratio: answering 500 to " + this.failPermille.toString() + " of every 1000 requests");
    return true;
  }
}

class FailRatio extends Context {
  root: FailRatioRoot;

  constructor(context_id: u32, root: FailRatioRoot) {
    super(context_id, root);
    this.root = root;
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const n = ++this.root.requests;
    const p = this.root.failPermille;
    if ((n * p) / 1000 > ((n - 1) * p) / 1000) {
      send_local_response(500, "fail_ratio", new ArrayBuffer(0), new Array<HeaderPair>(0), GrpcStatusValues.InvalidCode);
      return FilterHeadersStatusValues.StopIteration;
    }
    return FilterHeadersStatusValues.Continue;
  }
}

registerRoot("fail_ratio", (context_id: u32): RootContext => new FailRatioRoot(context_id));
