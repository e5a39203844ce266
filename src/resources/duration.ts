/** google.protobuf.Duration values for the builders (the config model holds whole milliseconds). */
import type { Duration } from "../generated/google/protobuf/Duration";

export function durationFromMs(ms: number): Duration {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}
