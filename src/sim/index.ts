/**
 * The Envoy fleet simulator as a library (`wasmxds/sim`, docs/SIMULATOR.md):
 * nodes that speak ADS, load wasm and report stats as Envoy does.
 *
 * @module wasmxds/sim
 */
export { JitteredExponentialBackOff, JitteredLowerBoundBackOff, type Random } from "./backoff";
export { type Clock, every, realClock, type TimerHandle } from "../time/clock";
export type { ServerState } from "./config/node-config";
export type { ListenerStatus } from "./config/listener-manager";
export { FakeClock } from "../time/fake-clock";
export type { NackSent, SimNodeEvent } from "./node-events";
export { type NodeIdentity, type NodeLocality, nodeMessage } from "./node-identity";
export { DEFAULT_NODE_CLUSTER, DEFAULT_XDS_ADDRESS, type SimNodeOptions } from "./node-options";
export { SimFleet, type SimFleetOptions } from "./sim-fleet";
export { type NodeSummary, SimNode } from "./sim-node";
export { DEFAULT_FLUSH_INTERVAL_MS, type HistogramEmitMode, METRICS_SERVICE_PATH, type MetricsServiceOptions } from "./stats/metrics-service-sink";
export { prometheusName } from "./stats/stats-render";
export { type Stat, StatsStore, type StatType } from "./stats/stats-store";
export { type FleetSummary, formatSummary, summarize } from "./summary";
export { readSimTlsFiles, type SimTlsFiles, type SimTlsOptions, simCredentials } from "./tls";
export type { HttpOutcome, HttpRequestInput } from "./traffic/http-stream";
export type { TcpCloseReason, TcpConnectionInput, TcpOutcome } from "./traffic/tcp-connection";
export type { TrafficOptions } from "./traffic/traffic-driver";
export type { FilterGate, WasmPlugin } from "./wasm/wasm-plugin";
export { ADS_PATH, NACK_CODE, type SentRequest, type XdsApi } from "./xds/xds-client";
export { DELTA_ADS_PATH } from "./xds/delta-xds-client";
