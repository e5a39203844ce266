/**
 * Where the time went in a .cpuprofile (node --cpu-prof):
 *
 *   node --import tsx bench/analyse-profile.ts <file.cpuprofile> [--from µs --to µs] [--top 20] [--inclusive fnA,fnB]
 *
 * --from/--to cut a window on the monotonic clock (the profile's time base;
 * bench/fanout.ts records each scenario's window in fanout.json).
 */
import { parseArgs } from "node:util";
import { formatSummary, summarizeProfile } from "./fanout/profile";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { from: { type: "string" }, to: { type: "string" }, top: { type: "string", default: "20" }, inclusive: { type: "string", default: "" } },
});
const file = positionals[0];
if (!file) throw new Error("usage: analyse-profile.ts <file.cpuprofile> [--from µs --to µs] [--top N] [--inclusive fnA,fnB]");
const window = values.from && values.to ? ([Number(values.from), Number(values.to)] as const) : undefined;
const inclusive = values.inclusive ? values.inclusive.split(",") : [];
console.log(formatSummary(summarizeProfile(file, window, Number(values.top), inclusive)));
