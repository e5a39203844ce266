/**
 * Metrics a module defines with proxy_define_metric. Ids follow Envoy's
 * scheme (proxy-wasm-cpp-host include/proxy-wasm/wasm.h): the low two bits
 * carry the type and each new id adds 4, so the type of an id is `id & 3`.
 * Ids are per VM, values are per name in a MetricRegistry that several VMs
 * can share (Envoy keeps one stat per name in the plugin's scope).
 * Increment/record/get semantics follow Envoy's Context::incrementMetric,
 * recordMetric and getMetric (source/extensions/common/wasm/context.cc).
 */
import { type MetricKind, MetricType, WasmResult } from "../abi/enums";

export interface MetricSnapshot {
  readonly name: string;
  readonly kind: MetricKind;
  /** Counter or gauge value; for histograms the number of samples. */
  readonly value: bigint;
  /** Histogram samples (the most recent ones, bounded). */
  readonly samples?: readonly bigint[];
}

interface Metric {
  kind: MetricKind;
  value: bigint;
  samples: bigint[];
}

const KIND_BY_TYPE: readonly MetricKind[] = ["counter", "gauge", "histogram"];
const MAX_SAMPLES = 1000;

/** Values by metric name; share one registry between VMs to aggregate like Envoy's stats scope. */
export class MetricRegistry {
  private readonly metrics = new Map<string, Metric>();

  ensure(name: string, kind: MetricKind): Metric {
    let m = this.metrics.get(name);
    if (!m) {
      m = { kind, value: 0n, samples: [] };
      this.metrics.set(name, m);
    }
    return m;
  }

  snapshot(): MetricSnapshot[] {
    return [...this.metrics].map(([name, m]) =>
      m.kind === "histogram"
        ? { name, kind: m.kind, value: BigInt(m.samples.length), samples: [...m.samples] }
        : { name, kind: m.kind, value: m.value },
    );
  }

  get(name: string): MetricSnapshot | undefined {
    return this.snapshot().find((m) => m.name === name);
  }
}

/** One VM's view: id allocation and the ABI operations. */
export class VmMetrics {
  private readonly byId = new Map<number, Metric>();
  private readonly next = [MetricType.Counter, MetricType.Gauge, MetricType.Histogram] as number[];

  constructor(readonly registry: MetricRegistry) {}

  define(type: number, name: string): { result: WasmResult; id?: number } {
    const kind = KIND_BY_TYPE[type];
    if (kind === undefined) return { result: WasmResult.BadArgument };
    const id = ((this.next[type] as number) + 4) >>> 0;
    this.next[type] = id;
    this.byId.set(id, this.registry.ensure(name, kind));
    return { result: WasmResult.Ok, id };
  }

  increment(id: number, offset: bigint): WasmResult {
    const m = this.byId.get(id);
    if (!m) return WasmResult.NotFound;
    if (m.kind === "counter") {
      if (offset <= 0n) return WasmResult.BadArgument;
      m.value = BigInt.asUintN(64, m.value + offset);
      return WasmResult.Ok;
    }
    if (m.kind === "gauge") {
      m.value = BigInt.asUintN(64, m.value + offset);
      return WasmResult.Ok;
    }
    return WasmResult.BadArgument;
  }

  record(id: number, value: bigint): WasmResult {
    const m = this.byId.get(id);
    if (!m) return WasmResult.NotFound;
    const v = BigInt.asUintN(64, value);
    if (m.kind === "counter") m.value = BigInt.asUintN(64, m.value + v);
    else if (m.kind === "gauge") m.value = v;
    else {
      m.samples.push(v);
      if (m.samples.length > MAX_SAMPLES) m.samples.shift();
    }
    return WasmResult.Ok;
  }

  get(id: number): { result: WasmResult; value?: bigint } {
    const m = this.byId.get(id);
    if (!m) return { result: WasmResult.NotFound };
    if (m.kind === "histogram") return { result: WasmResult.BadArgument };
    return { result: WasmResult.Ok, value: m.value };
  }
}
