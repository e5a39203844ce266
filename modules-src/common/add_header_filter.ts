// The add_header HTTP filter, shared by modules/add_header and the good_http fixture.
//
// Configuration (PluginConfig.configuration, JSON text):
//   {"header": "x-demo", "value": "wasmxds"}
// Both members are optional and default to header "x-wasmxds", value "add_header";
// an empty configuration means all defaults. on_configure returns false (Envoy
// rejects the plugin) when the configuration is not valid JSON, is not an object,
// has a member other than "header" / "value", has a non-string member, or has
// an empty header name.
// The header is added to the request headers (on their way upstream) and to the
// response headers (on their way downstream).

import {
  Context,
  FilterHeadersStatusValues,
  LogLevelValues,
  RootContext,
  log,
  stream_context,
} from "@solo-io/proxy-runtime";
import { readPluginConfiguration, registerRoot } from "./host";
import { JsonKind, parseJson } from "./json";

const DEFAULT_HEADER = "x-wasmxds";
const DEFAULT_VALUE = "add_header";

// Root id / name used in log lines; set by registerAddHeader().
let filterName = "add_header";

class AddHeaderRoot extends RootContext {
  header: string = DEFAULT_HEADER;
  value: string = DEFAULT_VALUE;

  createContext(context_id: u32): Context {
    return new AddHeader(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    const text = readPluginConfiguration(configuration_size);
    let header = DEFAULT_HEADER;
    let value = DEFAULT_VALUE;
    if (text.length > 0) {
      const json = parseJson(text);
      if (json === null || !json.isObject()) {
        log(LogLevelValues.error, filterName + ": configuration is not a JSON object: " + text);
        return false;
      }
      for (let i = 0; i < json.keys.length; i++) {
        const key = json.keys[i];
        const member = json.values[i];
        if ((key != "header" && key != "value") || member.kind != JsonKind.String) {
          log(LogLevelValues.error, filterName + ": configuration member '" + key + "' is unknown or not a string");
          return false;
        }
        if (key == "header") header = member.stringValue;
        else value = member.stringValue;
      }
      if (header.length == 0) {
        log(LogLevelValues.error, filterName + ": configuration has an empty header name");
        return false;
      }
    }
    this.header = header;
    this.value = value;
    log(LogLevelValues.info, filterName + ": configured, adding header " + header + ": " + value);
    return true;
  }
}

class AddHeader extends Context {
  root: AddHeaderRoot;

  constructor(context_id: u32, root: AddHeaderRoot) {
    super(context_id, root);
    this.root = root;
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.request.add(this.root.header, this.root.value);
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add(this.root.header, this.root.value);
    return FilterHeadersStatusValues.Continue;
  }
}

export function registerAddHeader(name: string): void {
  filterName = name;
  registerRoot(name, (context_id: u32): RootContext => new AddHeaderRoot(context_id));
}
