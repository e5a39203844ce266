// Original file: /work/main/protos/envoy/service/metrics/v3/metrics_service.proto


export interface StreamMetricsResponse {
}

export interface StreamMetricsResponse__Output {
}
