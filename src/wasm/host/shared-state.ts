/**
 * In-memory shared data (key/value with CAS) and shared queues, scoped by
 * vm_id like proxy-wasm-cpp-host src/shared_data.cc and src/shared_queue.cc.
 * Pass one SharedState to several VMs to let them see each other's data.
 *
 * Envoy posts on_queue_ready to the owning worker's dispatcher; here the
 * owner is told synchronously through its `notify` callback and the VM
 * delivers the callback once its current top-level call has returned.
 */
import { WasmResult } from "../abi/enums";

interface Entry {
  value: Uint8Array;
  cas: number;
}

interface Queue {
  vmId: string;
  name: string;
  items: Uint8Array[];
  notify: (token: number) => void;
}

export class SharedState {
  private readonly data = new Map<string, Entry>();
  private readonly queues = new Map<number, Queue>();
  private readonly queueTokens = new Map<string, number>();
  private nextCas = 0;
  private nextToken = 0;

  private static key(vmId: string, name: string): string {
    return `${vmId}\0${name}`;
  }

  getData(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    const e = this.data.get(SharedState.key(vmId, key));
    return e ? { value: e.value, cas: e.cas } : undefined;
  }

  /** cas 0 means "unconditional"; otherwise it must match the stored cas. */
  setData(vmId: string, key: string, value: Uint8Array, cas: number): WasmResult {
    const k = SharedState.key(vmId, key);
    const existing = this.data.get(k);
    if (existing && cas !== 0 && cas !== existing.cas) return WasmResult.CasMismatch;
    this.nextCas = (this.nextCas + 1) >>> 0 || 1;
    this.data.set(k, { value, cas: this.nextCas });
    return WasmResult.Ok;
  }

  /** Registering an existing name keeps its pending items and moves ownership (as Envoy does). */
  registerQueue(vmId: string, name: string, notify: (token: number) => void): number {
    const k = SharedState.key(vmId, name);
    const existing = this.queueTokens.get(k);
    if (existing !== undefined) {
      const q = this.queues.get(existing);
      if (q) q.notify = notify;
      return existing;
    }
    this.nextToken = (this.nextToken + 1) >>> 0 || 1;
    this.queueTokens.set(k, this.nextToken);
    this.queues.set(this.nextToken, { vmId, name, items: [], notify });
    return this.nextToken;
  }

  resolveQueue(vmId: string, name: string): number | undefined {
    return this.queueTokens.get(SharedState.key(vmId, name));
  }

  enqueue(token: number, data: Uint8Array): WasmResult {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    q.items.push(data);
    q.notify(token);
    return WasmResult.Ok;
  }

  dequeue(token: number): { result: WasmResult; data?: Uint8Array } {
    const q = this.queues.get(token);
    if (!q) return { result: WasmResult.NotFound };
    const data = q.items.shift();
    return data === undefined ? { result: WasmResult.Empty } : { result: WasmResult.Ok, data };
  }
}
