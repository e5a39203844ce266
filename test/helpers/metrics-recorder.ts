/**
 * A small envoy.service.metrics.v3.MetricsService for tests, on raw
 * @grpc/grpc-js: records every StreamMetricsMessage, by stream.
 */
import type * as grpc from "@grpc/grpc-js";
import type { StreamMetricsMessage__Output } from "../../src/generated/envoy/service/metrics/v3/StreamMetricsMessage";
import { decodeMessage, encodeMessage } from "../../src/proto/registry";

export interface MetricsRecorder {
  /** Messages per stream, in arrival order. */
  readonly streams: StreamMetricsMessage__Output[][];
  /** All messages from the node with this id (identified by its stream's first message). */
  messagesOf(nodeId: string): StreamMetricsMessage__Output[];
}

export function addMetricsService(server: grpc.Server): MetricsRecorder {
  const streams: StreamMetricsMessage__Output[][] = [];
  server.addService(
    {
      StreamMetrics: {
        path: "/envoy.service.metrics.v3.MetricsService/StreamMetrics",
        requestStream: true,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      StreamMetrics: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const messages: StreamMetricsMessage__Output[] = [];
        streams.push(messages);
        call.on("data", (b: Buffer) => messages.push(decodeMessage<StreamMetricsMessage__Output>("envoy.service.metrics.v3.StreamMetricsMessage", b)));
        call.on("end", () => callback(null, encodeMessage("envoy.service.metrics.v3.StreamMetricsResponse", {})));
        call.on("error", () => {});
      },
    },
  );
  return {
    streams,
    messagesOf: (nodeId) => streams.filter((s) => s[0]?.identifier?.node?.id === nodeId).flat(),
  };
}
