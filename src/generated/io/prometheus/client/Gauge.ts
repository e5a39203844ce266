// Original file: /work/main/protos/io/prometheus/client/metrics.proto


export interface Gauge {
  'value'?: (number | string);
}

export interface Gauge__Output {
  'value': (number);
}
