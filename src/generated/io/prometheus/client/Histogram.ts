// Original file: /work/main/protos/io/prometheus/client/metrics.proto

import type { Bucket as _io_prometheus_client_Bucket, Bucket__Output as _io_prometheus_client_Bucket__Output } from '../../../io/prometheus/client/Bucket';
import type { BucketSpan as _io_prometheus_client_BucketSpan, BucketSpan__Output as _io_prometheus_client_BucketSpan__Output } from '../../../io/prometheus/client/BucketSpan';
import type { Long } from '@grpc/proto-loader';

export interface Histogram {
  'sample_count'?: (number | string | Long);
  'sample_sum'?: (number | string);
  'bucket'?: (_io_prometheus_client_Bucket)[];
  'sample_count_float'?: (number | string);
  'schema'?: (number);
  'zero_threshold'?: (number | string);
  'zero_count'?: (number | string | Long);
  'zero_count_float'?: (number | string);
  'negative_span'?: (_io_prometheus_client_BucketSpan)[];
  'negative_delta'?: (number | string | Long)[];
  'negative_count'?: (number | string)[];
  'positive_span'?: (_io_prometheus_client_BucketSpan)[];
  'positive_delta'?: (number | string | Long)[];
  'positive_count'?: (number | string)[];
}

export interface Histogram__Output {
  'sample_count': (string);
  'sample_sum': (number);
  'bucket': (_io_prometheus_client_Bucket__Output)[];
  'sample_count_float': (number);
  'schema': (number);
  'zero_threshold': (number);
  'zero_count': (string);
  'zero_count_float': (number);
  'negative_span': (_io_prometheus_client_BucketSpan__Output)[];
  'negative_delta': (string)[];
  'negative_count': (number)[];
  'positive_span': (_io_prometheus_client_BucketSpan__Output)[];
  'positive_delta': (string)[];
  'positive_count': (number)[];
}
