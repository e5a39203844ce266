// Original file: /work/main/protos/io/prometheus/client/metrics.proto


export interface Quantile {
  'quantile'?: (number | string);
  'value'?: (number | string);
}

export interface Quantile__Output {
  'quantile': (number);
  'value': (number);
}
