/**
 * The xDS server as a library (`wasmxds/xds`): attach ADS and the
 * single-type discovery services to a @grpc/grpc-js Server, serving a
 * `SnapshotCache` from `wasmxds/cache`; plus the type URLs it serves.
 *
 * @module wasmxds/xds
 */
export { ADS_ORDER, EXTENSION_TYPE_URLS, isTypeUrl, type ResourceKind, SHORT_NAMES, TYPE_URLS, type TypeUrl } from "../vocabulary/type-urls";
export { type NackRecord, type XdsEvent, type XdsEventListener, XdsEvents } from "./events";
export { DEFAULT_LIMITS, type StreamLimits } from "./limits";
export type { NodeInfo } from "../vocabulary/node-info";
export type { StreamStatus, TypeStatus, XdsProtocol } from "./type-state";
export { XdsServer, type XdsServerOptions } from "./xds-server";
export type { XdsStreams } from "./xds-streams";
