/**
 * The error a route or the request parser throws to answer with an HTTP
 * status and a message (a 4xx the client can act on). Anything else that
 * escapes a handler is a 500.
 */
import { WasmxdsError } from "../errors";

export class AdminHttpError extends WasmxdsError {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (a 401's WWW-Authenticate). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super("USAGE", message);
  }
}
