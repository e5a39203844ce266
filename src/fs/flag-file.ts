/**
 * A file a command-line flag names (a CA, a certificate, a key), read at
 * start: one that cannot be read is an error naming the flag and the file,
 * so the operator knows which of several PEM files is wrong.
 */
import { readFileSync } from "node:fs";
import { type ErrorCode, WasmxdsError, errorMessage } from "../errors";

export function readFlagFile(file: string, flag: string, code: ErrorCode): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new WasmxdsError(code, `${flag} ${file}: cannot be read: ${errorMessage(err)}`, { cause: err });
  }
}
