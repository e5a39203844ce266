// Original file: /work/main/protos/io/prometheus/client/metrics.proto

import type { Quantile as _io_prometheus_client_Quantile, Quantile__Output as _io_prometheus_client_Quantile__Output } from '../../../io/prometheus/client/Quantile';
import type { Long } from '@grpc/proto-loader';

export interface Summary {
  'sample_count'?: (number | string | Long);
  'sample_sum'?: (number | string);
  'quantile'?: (_io_prometheus_client_Quantile)[];
}

export interface Summary__Output {
  'sample_count': (string);
  'sample_sum': (number);
  'quantile': (_io_prometheus_client_Quantile__Output)[];
}
