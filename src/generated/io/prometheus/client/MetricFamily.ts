// Original file: /work/main/protos/io/prometheus/client/metrics.proto

import type { MetricType as _io_prometheus_client_MetricType, MetricType__Output as _io_prometheus_client_MetricType__Output } from '../../../io/prometheus/client/MetricType';
import type { Metric as _io_prometheus_client_Metric, Metric__Output as _io_prometheus_client_Metric__Output } from '../../../io/prometheus/client/Metric';

export interface MetricFamily {
  'name'?: (string);
  'help'?: (string);
  'type'?: (_io_prometheus_client_MetricType);
  'metric'?: (_io_prometheus_client_Metric)[];
}

export interface MetricFamily__Output {
  'name': (string);
  'help': (string);
  'type': (_io_prometheus_client_MetricType__Output);
  'metric': (_io_prometheus_client_Metric__Output)[];
}
