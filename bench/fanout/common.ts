/** Helpers shared by the benchmark's child processes. */
import type { CpuFigures, MemoryFigures } from "./protocol";

/** Heap and RSS after full collections (the process runs with --expose-gc), so garbage is not counted as state. */
export async function settledMemory(): Promise<MemoryFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    // Let finalizers and freed native buffers (HTTP/2 sessions) go between collections.
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** CPU time this process used over the next `ms` of wall time. */
export async function cpuOver(ms: number): Promise<CpuFigures> {
  const start = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(start);
  return { userMs: used.user / 1000, systemMs: used.system / 1000, wallMs: performance.now() - t0 };
}

/** CPU time used since `start` (a process.cpuUsage() reading), ms. */
export function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}
