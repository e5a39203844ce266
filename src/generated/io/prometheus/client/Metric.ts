// Original file: /work/main/protos/io/prometheus/client/metrics.proto

import type { LabelPair as _io_prometheus_client_LabelPair, LabelPair__Output as _io_prometheus_client_LabelPair__Output } from '../../../io/prometheus/client/LabelPair';
import type { Gauge as _io_prometheus_client_Gauge, Gauge__Output as _io_prometheus_client_Gauge__Output } from '../../../io/prometheus/client/Gauge';
import type { Counter as _io_prometheus_client_Counter, Counter__Output as _io_prometheus_client_Counter__Output } from '../../../io/prometheus/client/Counter';
import type { Summary as _io_prometheus_client_Summary, Summary__Output as _io_prometheus_client_Summary__Output } from '../../../io/prometheus/client/Summary';
import type { Untyped as _io_prometheus_client_Untyped, Untyped__Output as _io_prometheus_client_Untyped__Output } from '../../../io/prometheus/client/Untyped';
import type { Histogram as _io_prometheus_client_Histogram, Histogram__Output as _io_prometheus_client_Histogram__Output } from '../../../io/prometheus/client/Histogram';
import type { Long } from '@grpc/proto-loader';

export interface Metric {
  'label'?: (_io_prometheus_client_LabelPair)[];
  'gauge'?: (_io_prometheus_client_Gauge | null);
  'counter'?: (_io_prometheus_client_Counter | null);
  'summary'?: (_io_prometheus_client_Summary | null);
  'untyped'?: (_io_prometheus_client_Untyped | null);
  'timestamp_ms'?: (number | string | Long);
  'histogram'?: (_io_prometheus_client_Histogram | null);
}

export interface Metric__Output {
  'label': (_io_prometheus_client_LabelPair__Output)[];
  'gauge': (_io_prometheus_client_Gauge__Output | null);
  'counter': (_io_prometheus_client_Counter__Output | null);
  'summary': (_io_prometheus_client_Summary__Output | null);
  'untyped': (_io_prometheus_client_Untyped__Output | null);
  'timestamp_ms': (string);
  'histogram': (_io_prometheus_client_Histogram__Output | null);
}
