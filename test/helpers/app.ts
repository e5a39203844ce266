/**
 * Starts wasmxds in-process on a config folder, every port 0, for tests.
 * WASMXDS_TEST_WORKERS=N runs every such test with its xDS streams in N
 * worker processes (`npm run test:workers`; docs/WORKERS.md).
 */
import { memoryLogger } from "../../src/logger";
import { type RunningWasmxds, type WasmxdsOptions, startWasmxds } from "../../src/main";

/** The worker configuration the suite runs in (0: streams in the test's process). */
export const TEST_WORKERS = Number(process.env.WASMXDS_TEST_WORKERS ?? "0");

export function startTestApp(dir: string, extra: Partial<WasmxdsOptions> = {}): Promise<RunningWasmxds> {
  return startWasmxds({
    configDir: dir,
    xdsAddress: { host: "127.0.0.1", port: 0 },
    modulesAddress: { host: "127.0.0.1", port: 0 },
    adminAddress: { host: "127.0.0.1", port: 0 },
    watch: false,
    logger: memoryLogger(),
    healthTiming: { evaluateEveryMs: 50 },
    ...(TEST_WORKERS > 0 && { workers: TEST_WORKERS }),
    ...extra,
  });
}
