// Original file: /work/main/protos/io/prometheus/client/metrics.proto


export interface Untyped {
  'value'?: (number | string);
}

export interface Untyped__Output {
  'value': (number);
}
