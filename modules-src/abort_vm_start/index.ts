// abort_vm_start (fixture, root_id "abort_vm_start"): aborts in on_vm_start.
//
// AssemblyScript compiles `throw` to a call of abort(), which the --use
// abort=abort_proc_exit flag (see ../asconfig.json) maps to the SDK's
// abort_proc_exit: it logs "<message> at: <file>(<line>:<column>)" at critical
// level and calls wasi_unstable.proc_exit(255). An `unreachable` trap follows,
// so on_vm_start fails even if the host's proc_exit returns.
export * from "@solo-io/proxy-runtime/proxy";
import { Context, RootContext } from "@solo-io/proxy-runtime";
import { registerRoot } from "../common/host";

class AbortRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Context(context_id, this);
  }

  onStart(vm_configuration_size: usize): bool {
    throw new Error("abort_vm_start: deliberate abort in on_vm_start");
    return true;
  }
}

registerRoot("abort_vm_start", (context_id: u32): RootContext => new AbortRoot(context_id));
