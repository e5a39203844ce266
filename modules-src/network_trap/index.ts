// network_trap (fixture, network, root_id "network_trap"): accepts new
// connections and traps (`unreachable`) on the first downstream data of every
// connection. The configuration is ignored.
export * from "@solo-io/proxy-runtime/proxy";
export * from "../common/network";
import { Context, FilterStatusValues, RootContext } from "@solo-io/proxy-runtime";
import { registerRoot } from "../common/host";

class NetworkTrapRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new NetworkTrap(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    return true;
  }
}

class NetworkTrap extends Context {
  onNewConnection(): FilterStatusValues {
    return FilterStatusValues.Continue;
  }

  onDownstreamData(size: usize, end: bool): FilterStatusValues {
    unreachable();
    return FilterStatusValues.Continue;
  }
}

registerRoot("network_trap", (context_id: u32): RootContext => new NetworkTrapRoot(context_id));
