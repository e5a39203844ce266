/**
 * Starts a node:http (or node:https) server on HOST:PORT with an error that names the
 * server and address, and a close() that does not wait for keep-alive
 * connections (Envoy and browsers keep them open).
 */
import type { Server } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { WasmxdsError, errorMessage } from "../errors";
import type { Logger } from "../logger";
import { type HostPort, formatHostPort } from "./host-port";

export interface ListeningHttp {
  /** The address actually bound (the real port when 0 was asked for). */
  readonly address: HostPort;
  close(): Promise<void>;
}

export async function listenHttp(server: Server | HttpsServer, name: string, at: HostPort, logger: Logger): Promise<ListeningHttp> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      reject(new WasmxdsError("ADDRESS_INVALID", `${name}: cannot listen on ${formatHostPort(at)}: ${err.message}`, { cause: err }));
    };
    server.once("error", onError);
    server.listen(at.port, at.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  // After start-up a server error would otherwise be an unhandled 'error' event.
  server.on("error", (err) => logger.error(`${name} error`, { error: errorMessage(err) }));
  const info = server.address() as AddressInfo;
  const address: HostPort = Object.freeze({ host: info.address, port: info.port });
  logger.info(`${name} listening`, { address: formatHostPort(address) });
  let closing: Promise<void> | undefined;
  return {
    address,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
