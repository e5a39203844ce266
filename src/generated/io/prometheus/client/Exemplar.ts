// Original file: /work/main/protos/io/prometheus/client/metrics.proto

import type { LabelPair as _io_prometheus_client_LabelPair, LabelPair__Output as _io_prometheus_client_LabelPair__Output } from '../../../io/prometheus/client/LabelPair';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../../google/protobuf/Timestamp';

export interface Exemplar {
  'label'?: (_io_prometheus_client_LabelPair)[];
  'value'?: (number | string);
  'timestamp'?: (_google_protobuf_Timestamp | null);
}

export interface Exemplar__Output {
  'label': (_io_prometheus_client_LabelPair__Output)[];
  'value': (number);
  'timestamp': (_google_protobuf_Timestamp__Output | null);
}
