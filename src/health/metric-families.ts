/**
 * Reads the io.prometheus.client.MetricFamily list of one
 * StreamMetricsMessage. Envoy writes one family per stat: COUNTER with
 * counter.value, GAUGE with gauge.value, SUMMARY/HISTOGRAM for histograms,
 * one metric each, named by the stat (or its tag-extracted name, with
 * labels), every metric stamped with the snapshot's time
 * (grpc_metrics_service_impl.cc, MetricsFlusher). Anything else is
 * garbage: counted and skipped, never fatal for the message.
 */
import type { MetricFamily__Output } from "../generated/io/prometheus/client/MetricFamily";
import type { StatSample } from "./latest-stats";
import { isHealthStat, statNameOf } from "./stat-names";
import { trafficStatNameOf } from "./stat-traffic";

export interface FamilyLimits {
  /** Metrics in one family (Envoy sends one). */
  readonly maxMetricsPerFamily: number;
  /** Length of a family name. */
  readonly maxNameLength: number;
}

export interface ReadFamilies {
  /** wasm-related stats and the listeners' traffic counters (stat-traffic.ts) only. */
  readonly samples: StatSample[];
  /** Every counter in the message, for learning the counter mode. */
  readonly counters: Map<string, number>;
  /** Families that were not what Envoy sends (no name, wrong value, unknown type). */
  readonly invalid: number;
  /** Well-formed families of other stats, and histograms. */
  readonly unrelated: number;
  /** The snapshot time (`timestamp_ms`, as decoded) of the first well-named family that has one; undefined if none does. */
  readonly time: string | undefined;
}

export function readFamilies(families: readonly MetricFamily__Output[], limits: FamilyLimits): ReadFamilies {
  const samples: StatSample[] = [];
  const counters = new Map<string, number>();
  let invalid = 0;
  let unrelated = 0;
  let time: string | undefined;
  for (const family of families) {
    const name = family.name;
    if (typeof name !== "string" || name === "" || name.length > limits.maxNameLength || family.metric.length > limits.maxMetricsPerFamily) {
      invalid++;
      continue;
    }
    time ??= snapshotTime(family);
    if (family.type === "SUMMARY" || family.type === "HISTOGRAM" || family.type === "GAUGE_HISTOGRAM" || family.type === "UNTYPED") {
      unrelated++;
      continue;
    }
    if (family.type !== "COUNTER" && family.type !== "GAUGE") {
      invalid++;
      continue;
    }
    let ok = family.metric.length > 0;
    let related = false;
    for (const metric of family.metric) {
      const value = family.type === "COUNTER" ? metric.counter?.value : metric.gauge?.value;
      // Envoy's counters and gauges are unsigned integers.
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        ok = false;
        continue;
      }
      const stat = trafficStatNameOf(statNameOf(name, metric.label), metric.label);
      if (family.type === "COUNTER") counters.set(stat, value);
      if (isHealthStat(stat)) {
        related = true;
        samples.push({ name: stat, type: family.type === "COUNTER" ? "counter" : "gauge", value });
      }
    }
    if (!ok) invalid++;
    else if (!related) unrelated++;
  }
  return { samples, counters, invalid, unrelated, time };
}

/** int64 timestamp_ms decodes as a decimal string; "0" is the field left unset. */
function snapshotTime(family: MetricFamily__Output): string | undefined {
  for (const metric of family.metric) {
    const t = metric.timestamp_ms;
    if (typeof t === "string" && t !== "" && t !== "0") return t;
  }
  return undefined;
}
