/**
 * The whole benchmark suite from one command:
 *
 *   npm run bench [-- --nodes 100,1000 --listeners 1,10 ...]   # fan-out (options passed on), push path, hot-swap
 *   npm run bench:quick                                        # a small smoke run of both
 *
 * Each benchmark runs in its own process so one's memory and JIT state do
 * not colour the other's figures.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const run = (script: string, scriptArgs: readonly string[], nodeFlags: readonly string[] = []) => {
  const r = spawnSync(process.execPath, [...nodeFlags, "--import", "tsx", join(import.meta.dirname, script), ...scriptArgs], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run("fanout.ts", args);
run("push-cost.ts", quick ? ["--nodes", "1000"] : [], ["--expose-gc"]);
run("hot-swap.ts", quick ? ["--iterations", "10"] : []);
