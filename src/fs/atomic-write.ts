/**
 * Crash-safe file replacement: write a temporary file in the same folder,
 * fsync it, rename it over the target, fsync the folder. A crash at any
 * moment leaves either the old file or the whole new one, never a torn one.
 */
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Replaces `path` with `data`; the temporary file is `.<name>.<pid>.<random>.tmp`. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const file = await open(tmp, "wx", 0o644);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

/**
 * fsync the directory so the rename itself survives a power loss (POSIX only
 * promises that once the directory entry is synced). Some platforms cannot
 * open or sync a directory; there the rename is as durable as it gets.
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Not supported here (e.g. Windows: EPERM/EISDIR); nothing better to do.
  } finally {
    await handle?.close();
  }
}
