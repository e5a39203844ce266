/** Starts wasmxds in-process on a config folder, every port 0, for tests. */
import { memoryLogger } from "../../src/logger";
import { type RunningWasmxds, type WasmxdsOptions, startWasmxds } from "../../src/main";

export function startTestApp(dir: string, extra: Partial<WasmxdsOptions> = {}): Promise<RunningWasmxds> {
  return startWasmxds({
    configDir: dir,
    xdsAddress: { host: "127.0.0.1", port: 0 },
    modulesAddress: { host: "127.0.0.1", port: 0 },
    adminAddress: { host: "127.0.0.1", port: 0 },
    watch: false,
    logger: memoryLogger(),
    healthTiming: { evaluateEveryMs: 50 },
    ...extra,
  });
}
