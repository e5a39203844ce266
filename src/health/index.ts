/** Health: signals from Envoy's stats and access logs (and, later, the rollback policy). */
export { type HealthSignal, parsePluginName, SignalHub, type SignalKind, type SignalSource } from "./signal";
export { ACCESS_LOG_SERVICE, ACCESS_LOG_SERVICE_PATH, AccessLogIngest, type AccessLogIngestOptions, type AccessLogLimits, type AccessLogStats, WASM_FAIL_STREAM } from "./access-log-service";
export { ADMIN_METADATA_KEYS, adminAddressFromMetadata, adminAddressResolver, adminBaseUrl } from "./admin-address";
export { type AdminPollerStats, AdminStatsPoller, type AdminStatsPollerOptions, type PollOutcome } from "./admin-poller";
export { type StreamCounters, StreamRejection } from "./client-stream";
export { CounterModeDetector } from "./counter-mode";
export { type CounterMode, CounterTracker, type CounterTrackerOptions } from "./counter-tracker";
export { LatestStats, type NodeStatsView, type StatSample, type StatType } from "./latest-stats";
export { METRICS_SERVICE, METRICS_SERVICE_PATH, MetricsServiceIngest, type MetricsServiceIngestOptions, type MetricsServiceLimits, type MetricsServiceStats } from "./metrics-service";
export { ADMIN_STATS_FILTER, isWasmStat, type StatSignal, statNameOf, statSignal } from "./stat-names";
export { StatSignals } from "./stat-signals";
