// close_ratio (fixture, network, root_id "close_ratio"): closes a share of
// connections without ever trapping, for canary analysis tests of network
// filters.
//
// Configuration: {"closePermille": N}, N an integer from 0 to 1000, default
// 100 (10%, also when the configuration is empty); anything else makes
// on_configure return false. The root context counts connections
// (proxy_on_new_connection); connection number n is closed on its first
// downstream data when floor(n * N / 1000) > floor((n - 1) * N / 1000),
// i.e. exactly N of every 1000 consecutive connections, spread evenly and
// deterministically (the first closed is connection ceil(1000 / N)): the
// filter asks Envoy to close the downstream connection (proxy_close_stream,
// which Envoy does with FlushWrite and termination details
// wasm_downstream_close) and stops iteration, so the data never reaches
// tcp_proxy's upstream. Other connections pass untouched. The count lives
// in the VM.
export * from "@solo-io/proxy-runtime/proxy";
export * from "../common/network";
import { Context, FilterStatusValues, LogLevelValues, RootContext, log } from "@solo-io/proxy-runtime";
import { proxy_close_stream } from "@solo-io/proxy-runtime/imports";
import { StreamTypeValues } from "@solo-io/proxy-runtime/runtime";
import { readPluginConfiguration, registerRoot } from "../common/host";
import { isNonNegativeInteger, parseJson } from "../common/json";

class CloseRatioRoot extends RootContext {
  closePermille: u64 = 100;
  connections: u64 = 0;

  createContext(context_id: u32): Context {
    return new CloseRatio(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    const text = readPluginConfiguration(configuration_size);
    if (text.length == 0) return true;
    const json = parseJson(text);
    if (json === null || !json.isObject()) return false;
    for (let i = 0; i < json.keys.length; i++) {
      const value = json.values[i];
      if (json.keys[i] != "closePermille" || !isNonNegativeInteger(value) || value.numberValue > 1000) return false;
      this.closePermille = <u64>value.numberValue;
    }
    log(LogLevelValues.info, "close_ratio: closing " + this.closePermille.toString() + " of every 1000 connections");
    return true;
  }
}

class CloseRatio extends Context {
  root: CloseRatioRoot;
  close: bool = false;

  constructor(context_id: u32, root: CloseRatioRoot) {
    super(context_id, root);
    this.root = root;
  }

  onNewConnection(): FilterStatusValues {
    const n = ++this.root.connections;
    const p = this.root.closePermille;
    this.close = (n * p) / 1000 > ((n - 1) * p) / 1000;
    return FilterStatusValues.Continue;
  }

  onDownstreamData(size: usize, end: bool): FilterStatusValues {
    if (!this.close) return FilterStatusValues.Continue;
    proxy_close_stream(StreamTypeValues.Downstream);
    return FilterStatusValues.StopIteration;
  }
}

registerRoot("close_ratio", (context_id: u32): RootContext => new CloseRatioRoot(context_id));
