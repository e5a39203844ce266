// trap_first_request (fixture, HTTP, root_id "trap_first_request"): traps
// (`unreachable`) in every on_request_headers call, so every request fails.
// Starting and configuring succeed; the configuration is ignored.
export * from "@solo-io/proxy-runtime/proxy";
import { Context, FilterHeadersStatusValues, RootContext } from "@solo-io/proxy-runtime";
import { registerRoot } from "../common/host";

class TrapFirstRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new TrapFirst(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    return true;
  }
}

class TrapFirst extends Context {
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    unreachable();
    return FilterHeadersStatusValues.Continue;
  }
}

registerRoot("trap_first_request", (context_id: u32): RootContext => new TrapFirstRoot(context_id));
