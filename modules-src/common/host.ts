// Helpers shared by all modules, working around gaps in @solo-io/proxy-runtime 0.1.8.

import { RootContext, registerRootContext } from "@solo-io/proxy-runtime";
import { BufferTypeValues, get_buffer_bytes } from "@solo-io/proxy-runtime/runtime";

// Reads the plugin configuration (PluginConfig.configuration) as UTF-8 text.
//
// Use this in onConfigure() instead of the SDK's RootContext.onConfigure /
// getConfiguration(): that one passes the configuration size where the host
// expects a pointer for the returned size, so the host writes into a random
// low address of the module's memory, and with an empty configuration it can
// read a stale buffer.
export function readPluginConfiguration(configuration_size: u32): string {
  return readBuffer(BufferTypeValues.PluginConfiguration, configuration_size);
}

// Reads the VM configuration (VmConfig.configuration) as UTF-8 text; use it in onStart().
export function readVmConfiguration(vm_configuration_size: u32): string {
  return readBuffer(BufferTypeValues.VmConfiguration, vm_configuration_size);
}

function readBuffer(type: BufferTypeValues, size: u32): string {
  // With a zero length the host writes nothing back, so do not ask at all.
  if (size == 0) return "";
  return String.UTF8.decode(get_buffer_bytes(type, 0, size));
}

// Registers a root context factory.
//
// The SDK looks the factory up by the property `plugin_root_id`, i.e. by
// PluginConfig.root_id, when the host creates the root context
// (proxy_on_context_create); an unknown root_id aborts the VM with
// "Missing root context factory for root id: <id>". Every module registers
// under its own name and, so that a PluginConfig without root_id works too,
// under the empty root_id.
export function registerRoot(name: string, factory: (context_id: u32) => RootContext): void {
  registerRootContext(factory, name);
  registerRootContext(factory, "");
}
