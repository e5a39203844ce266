// Original file: /work/main/protos/envoy/config/metrics/v3/metrics_service.proto

export const HistogramEmitMode = {
  SUMMARY_AND_HISTOGRAM: 'SUMMARY_AND_HISTOGRAM',
  SUMMARY: 'SUMMARY',
  HISTOGRAM: 'HISTOGRAM',
} as const;

export type HistogramEmitMode =
  | 'SUMMARY_AND_HISTOGRAM'
  | 0
  | 'SUMMARY'
  | 1
  | 'HISTOGRAM'
  | 2

export type HistogramEmitMode__Output = typeof HistogramEmitMode[keyof typeof HistogramEmitMode]
