// Original file: /work/main/protos/io/prometheus/client/metrics.proto


export interface BucketSpan {
  'offset'?: (number);
  'length'?: (number);
}

export interface BucketSpan__Output {
  'offset': (number);
  'length': (number);
}
