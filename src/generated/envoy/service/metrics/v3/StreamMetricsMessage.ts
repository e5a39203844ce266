// Original file: /work/main/protos/envoy/service/metrics/v3/metrics_service.proto

import type { MetricFamily as _io_prometheus_client_MetricFamily, MetricFamily__Output as _io_prometheus_client_MetricFamily__Output } from '../../../../io/prometheus/client/MetricFamily';
import type { Node as _envoy_config_core_v3_Node, Node__Output as _envoy_config_core_v3_Node__Output } from '../../../../envoy/config/core/v3/Node';

export interface _envoy_service_metrics_v3_StreamMetricsMessage_Identifier {
  'node'?: (_envoy_config_core_v3_Node | null);
}

export interface _envoy_service_metrics_v3_StreamMetricsMessage_Identifier__Output {
  'node': (_envoy_config_core_v3_Node__Output | null);
}

export interface StreamMetricsMessage {
  'identifier'?: (_envoy_service_metrics_v3_StreamMetricsMessage_Identifier | null);
  'envoy_metrics'?: (_io_prometheus_client_MetricFamily)[];
}

export interface StreamMetricsMessage__Output {
  'identifier': (_envoy_service_metrics_v3_StreamMetricsMessage_Identifier__Output | null);
  'envoy_metrics': (_io_prometheus_client_MetricFamily__Output)[];
}
