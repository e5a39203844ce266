/**
 * Reading a file of the config folder (wasmxds.yaml, module files) without
 * trusting what is at the path. A fifo would block a read forever (and
 * with it a libuv thread), a directory or a symlink loop gives raw errno
 * text, a file can grow between stat and read. So: open non-blocking, check
 * the opened handle is a regular file, and read at most `maxBytes` + 1
 * bytes. Each failure is one sentence saying what was expected.
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { errorMessage } from "../errors";

/** Thrown with a message meant to follow `<path>: `. */
export class FileReadError extends Error {}

/** What kind of thing is at a path, for messages: "a directory", "a fifo"… */
export function describeKind(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a fifo (named pipe)";
  if (info.isSocket()) return "a socket";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Why a file-system call failed, in words (the errno text for anything unusual). */
export function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "ELOOP") return "a symlink loop (too many levels of symbolic links)";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "expected a file, found a directory";
  return errorMessage(err);
}

/** The bytes of a regular file of at most `maxBytes`, or a FileReadError. */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a fifo must not wait for a writer.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new FileReadError(describeFsError(err));
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new FileReadError(`expected a regular file, found ${describeKind(info)}`);
    if (info.size > maxBytes) throw new FileReadError(`expected at most ${maxBytes} bytes, the file has ${info.size}`);
    const grew = () => new FileReadError(`expected at most ${maxBytes} bytes, the file grew past that while being read`);
    let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(info.size + 1, 4096)));
    let length = 0;
    for (;;) {
      if (length === buf.length) {
        if (length > maxBytes) throw grew();
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw grew();
    return buf.subarray(0, length);
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    throw new FileReadError(`cannot be read: ${describeFsError(err)}`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
