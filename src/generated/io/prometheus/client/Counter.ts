// Original file: /work/main/protos/io/prometheus/client/metrics.proto

import type { Exemplar as _io_prometheus_client_Exemplar, Exemplar__Output as _io_prometheus_client_Exemplar__Output } from '../../../io/prometheus/client/Exemplar';

export interface Counter {
  'value'?: (number | string);
  'exemplar'?: (_io_prometheus_client_Exemplar | null);
}

export interface Counter__Output {
  'value': (number);
  'exemplar': (_io_prometheus_client_Exemplar__Output | null);
}
