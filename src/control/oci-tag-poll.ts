/**
 * `pullPolicy: Always` between file changes (docs/OCI.md): under
 * `serve --watch`, a tag moved in the registry must reach Envoys without
 * anyone touching the config folder. Every interval, if the served config
 * has a filter pulling a tag with Always, this asks the pipeline for a
 * rebuild through its one queue — the same load, pull, pre-flight, health
 * and rollout path as a file change. A tag that did not move costs one
 * manifest HEAD per filter and publishes nothing.
 */
import type { FilterConfig } from "../config/model";
import { type Clock, type TimerHandle, every } from "../time/clock";

/** Default interval of the check (`ociPollIntervalMs`). */
export const DEFAULT_OCI_POLL_MS = 60_000;

export interface OciTagPollOptions {
  readonly clock: Clock;
  readonly intervalMs?: number;
  /** The filters of the served config. */
  readonly filters: () => readonly FilterConfig[];
  /** Asks for a rebuild (ServingPipeline.schedule). */
  readonly schedule: (why: string) => void;
}

export class OciTagPoll {
  #timer: TimerHandle | undefined;

  constructor(private readonly o: OciTagPollOptions) {}

  start(): void {
    this.#timer ??= every(this.o.clock, this.o.intervalMs ?? DEFAULT_OCI_POLL_MS, () => {
      if (this.o.filters().some(pullsMovingTag)) this.o.schedule("the OCI tag check (pullPolicy: Always)");
    });
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}

/** A tag pulled with Always; a digest never moves. */
function pullsMovingTag(f: FilterConfig): boolean {
  return f.module.type === "oci" && f.module.pullPolicy === "Always" && !f.module.reference.includes("@");
}
