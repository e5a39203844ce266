// configure_false (fixture, root_id "configure_false"): on_configure returns
// true only when the plugin configuration is a JSON object with "ok": true
// (e.g. {"ok":true}); for anything else (empty, invalid JSON, "ok" missing or
// not exactly true) it logs an error and returns false. No stream callbacks.
export * from "@solo-io/proxy-runtime/proxy";
import { Context, LogLevelValues, RootContext, log } from "@solo-io/proxy-runtime";
import { readPluginConfiguration, registerRoot } from "../common/host";
import { JsonKind, parseJson } from "../common/json";

class ConfigureFalseRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Context(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    const text = readPluginConfiguration(configuration_size);
    const json = parseJson(text);
    if (json !== null && json.isObject()) {
      const ok = json.get("ok");
      if (ok !== null && ok.kind == JsonKind.Bool && ok.boolValue) {
        log(LogLevelValues.info, "configure_false: configuration accepted");
        return true;
      }
    }
    log(LogLevelValues.error, "configure_false: rejecting configuration without \"ok\":true: " + text);
    return false;
  }
}

registerRoot("configure_false", (context_id: u32): RootContext => new ConfigureFalseRoot(context_id));
