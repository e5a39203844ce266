/** envoy.config.core.v3.Address for a host and port (TCP). */
import type { Address } from "../generated/envoy/config/core/v3/Address";

export function socketAddress(host: string, port: number): Address {
  return { socket_address: { address: host, port_value: port } };
}
