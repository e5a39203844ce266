// The conn_guard network filter, shared by modules/conn_guard and the good_network fixture.
//
// Configuration (PluginConfig.configuration, JSON text): {"maxBytes": N}
// N is a non-negative integer, default 1073741824 (1 GiB); an empty
// configuration means the default. on_configure returns false for anything
// else (invalid JSON, not an object, other members, N not a non-negative
// integer).
// It counts the downstream bytes of each connection (the data_size of every
// proxy_on_downstream_data call). Once the count exceeds maxBytes it logs a
// warning (once), asks Envoy to close the downstream connection
// (proxy_close_stream(Downstream), which Envoy implements as a flush-write
// close) and returns StopIteration for this and any later data.

import { Context, FilterStatusValues, LogLevelValues, RootContext, log } from "@solo-io/proxy-runtime";
import { proxy_close_stream } from "@solo-io/proxy-runtime/imports";
import { StreamTypeValues } from "@solo-io/proxy-runtime/runtime";
import { readPluginConfiguration, registerRoot } from "./host";
import { isNonNegativeInteger, parseJson } from "./json";

const DEFAULT_MAX_BYTES: u64 = 1073741824;

// Root id / name used in log lines; set by registerConnGuard().
let filterName = "conn_guard";

class ConnGuardRoot extends RootContext {
  maxBytes: u64 = DEFAULT_MAX_BYTES;

  createContext(context_id: u32): Context {
    return new ConnGuard(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    const text = readPluginConfiguration(configuration_size);
    let maxBytes = DEFAULT_MAX_BYTES;
    if (text.length > 0) {
      const json = parseJson(text);
      if (json === null || !json.isObject()) {
        log(LogLevelValues.error, filterName + ": configuration is not a JSON object: " + text);
        return false;
      }
      for (let i = 0; i < json.keys.length; i++) {
        if (json.keys[i] != "maxBytes" || !isNonNegativeInteger(json.values[i])) {
          log(LogLevelValues.error, filterName + ": configuration member '" + json.keys[i] + "' is unknown or not a non-negative integer");
          return false;
        }
        maxBytes = <u64>json.values[i].numberValue;
      }
    }
    this.maxBytes = maxBytes;
    log(LogLevelValues.info, filterName + ": configured, maxBytes " + maxBytes.toString());
    return true;
  }
}

class ConnGuard extends Context {
  root: ConnGuardRoot;
  bytes: u64 = 0;
  tripped: bool = false;

  constructor(context_id: u32, root: ConnGuardRoot) {
    super(context_id, root);
    this.root = root;
  }

  onNewConnection(): FilterStatusValues {
    return FilterStatusValues.Continue;
  }

  onDownstreamData(size: usize, end: bool): FilterStatusValues {
    if (this.tripped) return FilterStatusValues.StopIteration;
    this.bytes += <u64>size;
    if (this.bytes <= this.root.maxBytes) return FilterStatusValues.Continue;
    this.tripped = true;
    log(
      LogLevelValues.warn,
      filterName + ": connection " + this.context_id.toString() + " sent " + this.bytes.toString() +
        " bytes, more than maxBytes " + this.root.maxBytes.toString() + "; closing it",
    );
    proxy_close_stream(StreamTypeValues.Downstream);
    return FilterStatusValues.StopIteration;
  }
}

export function registerConnGuard(name: string): void {
  filterName = name;
  registerRoot(name, (context_id: u32): RootContext => new ConnGuardRoot(context_id));
}
