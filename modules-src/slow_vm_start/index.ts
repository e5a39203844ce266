// slow_vm_start (fixture, root_id "slow_vm_start"): never returns from
// on_vm_start, to test start-up timeouts.
//
// By default it spins forever in a loop that calls nothing. With a VM
// configuration (VmConfig.configuration) of {"spinMs": N} it instead
// busy-waits N milliseconds, polling proxy_get_current_time_nanoseconds, and
// then starts normally (useful against a real Envoy, whose main thread it
// blocks). Invalid VM configuration JSON makes on_vm_start return false.
export * from "@solo-io/proxy-runtime/proxy";
import { Context, LogLevelValues, RootContext, log } from "@solo-io/proxy-runtime";
import { get_current_time_nanoseconds } from "@solo-io/proxy-runtime/runtime";
import { readVmConfiguration, registerRoot } from "../common/host";
import { isNonNegativeInteger, parseJson } from "../common/json";

// Keeps the endless loop observable so no optimiser may drop it.
let spins: u64 = 0;

class SlowRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Context(context_id, this);
  }

  onStart(vm_configuration_size: usize): bool {
    const text = readVmConfiguration(<u32>vm_configuration_size);
    if (text.length == 0) {
      log(LogLevelValues.info, "slow_vm_start: spinning forever in on_vm_start");
      while (true) spins++;
    }
    const json = parseJson(text);
    if (json === null || !json.isObject()) return false;
    const spinMs = json.get("spinMs");
    if (spinMs === null || !isNonNegativeInteger(spinMs)) return false;
    log(LogLevelValues.info, "slow_vm_start: spinning " + spinMs.numberValue.toString() + " ms in on_vm_start");
    const deadline = get_current_time_nanoseconds() + <u64>spinMs.numberValue * 1000000;
    while (get_current_time_nanoseconds() < deadline) spins++;
    return true;
  }

  onConfigure(configuration_size: u32): bool {
    return true;
  }
}

registerRoot("slow_vm_start", (context_id: u32): RootContext => new SlowRoot(context_id));
