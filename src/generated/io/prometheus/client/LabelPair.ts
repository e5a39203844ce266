// Original file: /work/main/protos/io/prometheus/client/metrics.proto


export interface LabelPair {
  'name'?: (string);
  'value'?: (string);
}

export interface LabelPair__Output {
  'name': (string);
  'value': (string);
}
