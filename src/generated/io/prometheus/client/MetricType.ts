// Original file: /work/main/protos/io/prometheus/client/metrics.proto

export const MetricType = {
  COUNTER: 'COUNTER',
  GAUGE: 'GAUGE',
  SUMMARY: 'SUMMARY',
  UNTYPED: 'UNTYPED',
  HISTOGRAM: 'HISTOGRAM',
  GAUGE_HISTOGRAM: 'GAUGE_HISTOGRAM',
} as const;

export type MetricType =
  | 'COUNTER'
  | 0
  | 'GAUGE'
  | 1
  | 'SUMMARY'
  | 2
  | 'UNTYPED'
  | 3
  | 'HISTOGRAM'
  | 4
  | 'GAUGE_HISTOGRAM'
  | 5

export type MetricType__Output = typeof MetricType[keyof typeof MetricType]
