/**
 * Open connections per client address (`--max-connections-per-address`):
 * counted where connections are accepted (grpc-server.ts in one process,
 * the xDS worker pool's listener with `--workers`), so one host cannot
 * hold the server's file descriptors, whichever process serves it.
 */
import type { Socket } from "node:net";

export class AddressLimit {
  private readonly open = new Map<string, number>();

  /** `limit` 0: no limit. */
  constructor(readonly limit: number) {}

  /** Counts a new connection from `address`; false (nothing counted) when it is over the limit. */
  admit(address: string): boolean {
    const open = this.open.get(address) ?? 0;
    if (this.limit > 0 && open >= this.limit) return false;
    this.open.set(address, open + 1);
    return true;
  }

  release(address: string): void {
    const left = (this.open.get(address) ?? 1) - 1;
    if (left > 0) this.open.set(address, left);
    else this.open.delete(address);
  }

  /** Connections `address` holds now. */
  count(address: string): number {
    return this.open.get(address) ?? 0;
  }
}

/** The peer's address, with an IPv4-mapped IPv6 address written as IPv4 (one host, one count). */
export function clientAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? "unknown";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
