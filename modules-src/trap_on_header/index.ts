// trap_on_header (fixture, HTTP, root_id "trap_on_header"): traps in
// on_request_headers when the request has an x-crash header (any value, also
// empty); otherwise adds the request header "x-checked: 1" and continues.
// The plugin configuration is ignored.
export * from "@solo-io/proxy-runtime/proxy";
import { Context, FilterHeadersStatusValues, RootContext, stream_context } from "@solo-io/proxy-runtime";
import { registerRoot } from "../common/host";

class TrapOnHeaderRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new TrapOnHeader(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    return true;
  }
}

class TrapOnHeader extends Context {
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    // get() cannot tell a missing header from an empty one, so scan all pairs.
    const pairs = stream_context.headers.request.get_headers();
    for (let i = 0; i < pairs.length; i++) {
      if (String.UTF8.decode(pairs[i].key) == "x-crash") unreachable();
    }
    stream_context.headers.request.add("x-checked", "1");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRoot("trap_on_header", (context_id: u32): RootContext => new TrapOnHeaderRoot(context_id));
