/**
 * One simulated Envoy's stats: counters and gauges by their dotted Envoy
 * name (docs/ENVOY.md "What Envoy does when a running module crashes" lists
 * the names this project depends on). Like Envoy, a stat is "used" once it
 * has been incremented or set; the admin `usedonly` filter and the metrics
 * service sink send only used stats (docs/ENVOY.md "Getting stats out of
 * Envoy"). Histograms are kept apart (histograms.ts): only the metrics
 * service sink reads them.
 */
import { Histogram } from "./histograms";

export type StatType = "counter" | "gauge";

export interface Stat {
  readonly name: string;
  readonly type: StatType;
  readonly value: number;
  readonly used: boolean;
}

interface Entry {
  readonly name: string;
  readonly type: StatType;
  value: number;
  used: boolean;
}

export class StatsStore {
  private readonly entries = new Map<string, Entry>();
  private sorted: Entry[] | undefined;
  private readonly collectors: (() => void)[] = [];
  private readonly histogramsByName = new Map<string, Histogram>();

  /** Runs `fn` before every read of all stats (to copy in values kept elsewhere, e.g. module metrics). */
  addCollector(fn: () => void): void {
    this.collectors.push(fn);
  }

  private entry(name: string, type: StatType): Entry {
    let e = this.entries.get(name);
    if (!e) {
      e = { name, type, value: 0, used: false };
      this.entries.set(name, e);
      this.sorted = undefined;
    }
    return e;
  }

  /** Declares a counter without using it (it shows in /stats as 0, not with usedonly). */
  declareCounter(name: string): void {
    this.entry(name, "counter");
  }

  declareGauge(name: string): void {
    this.entry(name, "gauge");
  }

  inc(name: string, by = 1): void {
    const e = this.entry(name, "counter");
    e.value += by;
    e.used = true;
  }

  set(name: string, value: number): void {
    const e = this.entry(name, "gauge");
    e.value = value;
    e.used = true;
  }

  /** Sets a counter kept elsewhere (module-defined metrics); used once non-zero. */
  setCounter(name: string, value: number): void {
    const e = this.entry(name, "counter");
    e.value = value;
    if (value !== 0) e.used = true;
  }

  add(name: string, delta: number): void {
    const e = this.entry(name, "gauge");
    e.value += delta;
    e.used = true;
  }

  /** Records a sample (e.g. a request's duration in ms) in a histogram. */
  record(name: string, value: number): void {
    let h = this.histogramsByName.get(name);
    if (!h) {
      h = new Histogram(name);
      this.histogramsByName.set(name, h);
    }
    h.record(value);
  }

  /** Every histogram, sorted by name. */
  histograms(): Histogram[] {
    return [...this.histogramsByName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The value of a stat, or undefined when it was never declared. */
  get(name: string): number | undefined {
    for (const c of this.collectors) c();
    return this.entries.get(name)?.value;
  }

  /** Every stat, sorted by name as Envoy's admin output is. */
  all(): readonly Stat[] {
    for (const c of this.collectors) c();
    if (!this.sorted) this.sorted = [...this.entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.sorted;
  }

  /** Plain name -> value of every stat (handy in tests). */
  toRecord(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.all()) out[s.name] = s.value;
    return out;
  }
}
