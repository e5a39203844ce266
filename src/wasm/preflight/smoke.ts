/**
 * The optional smoke traffic of the pre-flight check: one small HTTP
 * exchange or one TCP connection, in the order Envoy's filters deliver the
 * callbacks, ending with on_done, on_log, on_delete.
 */
import { PeerType } from "../abi/enums";
import type { ProxyWasmVm } from "../host/vm";

/** Runs one named step (a callback) and checks the VM afterwards. */
export type StepRunner = (step: string, fn: () => void) => void;

const encoder = new TextEncoder();

export function smokeHttp(vm: ProxyWasmVm, run: StepRunner): void {
  let http: ReturnType<ProxyWasmVm["createHttpContext"]> | undefined;
  run("proxy_on_context_create", () => {
    http = vm.createHttpContext();
  });
  const h = http as NonNullable<typeof http>;
  run("proxy_on_request_headers", () => {
    h.onRequestHeaders(
      [
        [":method", "GET"],
        [":path", "/"],
        [":authority", "example.com"],
        [":scheme", "http"],
        ["user-agent", "wasmxds-preflight/1"],
        ["x-request-id", "wasmxds-preflight"],
      ],
      false,
    );
  });
  // After a local reply Envoy stops decoding; the reply itself goes out as the response.
  if (!h.localResponse) {
    run("proxy_on_request_body", () => {
      h.onRequestBody(encoder.encode('{"hello":"world"}'), true);
    });
  }
  run("proxy_on_response_headers", () => {
    h.onResponseHeaders(
      [
        [":status", String(h.localResponse?.status ?? 200)],
        ["content-type", "text/plain"],
      ],
      false,
    );
  });
  run("proxy_on_response_body", () => {
    h.onResponseBody(encoder.encode("ok\n"), true);
  });
  run("proxy_on_done", () => {
    h.onDone();
  });
  run("proxy_on_log", () => h.onLog());
  run("proxy_on_delete", () => h.onDelete());
}

export function smokeNetwork(vm: ProxyWasmVm, run: StepRunner): void {
  let conn: ReturnType<ProxyWasmVm["createNetworkContext"]> | undefined;
  run("proxy_on_context_create", () => {
    conn = vm.createNetworkContext();
  });
  const c = conn as NonNullable<typeof conn>;
  run("proxy_on_new_connection", () => {
    c.onNewConnection();
  });
  run("proxy_on_downstream_data", () => {
    c.onDownstreamData(encoder.encode("PING wasmxds-preflight\r\n"), false);
  });
  run("proxy_on_upstream_data", () => {
    c.onUpstreamData(encoder.encode("PONG\r\n"), false);
  });
  run("proxy_on_downstream_connection_close", () => c.onDownstreamConnectionClose(PeerType.Remote));
  run("proxy_on_upstream_connection_close", () => c.onUpstreamConnectionClose(PeerType.Local));
  run("proxy_on_done", () => {
    c.onDone();
  });
  run("proxy_on_log", () => c.onLog());
  run("proxy_on_delete", () => c.onDelete());
}
