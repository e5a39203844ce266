// Original file: /work/main/protos/envoy/service/metrics/v3/metrics_service.proto

import type { MethodDefinition } from '@grpc/proto-loader'
import type { StreamMetricsMessage as _envoy_service_metrics_v3_StreamMetricsMessage, StreamMetricsMessage__Output as _envoy_service_metrics_v3_StreamMetricsMessage__Output } from '../../../../envoy/service/metrics/v3/StreamMetricsMessage';
import type { StreamMetricsResponse as _envoy_service_metrics_v3_StreamMetricsResponse, StreamMetricsResponse__Output as _envoy_service_metrics_v3_StreamMetricsResponse__Output } from '../../../../envoy/service/metrics/v3/StreamMetricsResponse';

export interface MetricsServiceDefinition {
  StreamMetrics: MethodDefinition<_envoy_service_metrics_v3_StreamMetricsMessage, _envoy_service_metrics_v3_StreamMetricsResponse, _envoy_service_metrics_v3_StreamMetricsMessage__Output, _envoy_service_metrics_v3_StreamMetricsResponse__Output>
}
