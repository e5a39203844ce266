// Original file: /work/main/protos/io/prometheus/client/metrics.proto

import type { Exemplar as _io_prometheus_client_Exemplar, Exemplar__Output as _io_prometheus_client_Exemplar__Output } from '../../../io/prometheus/client/Exemplar';
import type { Long } from '@grpc/proto-loader';

export interface Bucket {
  'cumulative_count'?: (number | string | Long);
  'upper_bound'?: (number | string);
  'exemplar'?: (_io_prometheus_client_Exemplar | null);
  'cumulative_count_float'?: (number | string);
}

export interface Bucket__Output {
  'cumulative_count': (string);
  'upper_bound': (number);
  'exemplar': (_io_prometheus_client_Exemplar__Output | null);
  'cumulative_count_float': (number);
}
