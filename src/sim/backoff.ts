/**
 * Envoy's two backoff strategies (source/common/common/backoff_strategy.cc),
 * with an injectable random source so tests can remove the jitter.
 */

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Random = () => number;

/**
 * JitteredExponentialBackOffStrategy: each call returns a random delay below
 * the current interval, which doubles up to `maxMs`. Envoy uses it for xDS
 * stream retries (base 500 ms, max 30 s: GrpcStream) and for remote data
 * source retries (RemoteDataSource.retry_policy, base 1 s, max 10 x base).
 */
export class JitteredExponentialBackOff {
  private next: number;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: Random,
  ) {
    this.next = Math.max(1, baseMs);
  }

  nextBackOffMs(): number {
    const backoff = this.next;
    this.next = this.next > this.maxMs / 2 ? this.maxMs : this.next * 2;
    return Math.min(Math.floor(this.random() * backoff), this.maxMs);
  }

  reset(): void {
    this.next = Math.max(1, this.baseMs);
  }
}

/**
 * JitteredLowerBoundBackOffStrategy: a delay in [min, 1.5 x min). Envoy's
 * FAIL_RELOAD uses it with reload_config.backoff.base_interval (default 1 s;
 * max_interval is not read), drawing a new value on every request that
 * finds the VM failed (source/extensions/common/wasm/wasm.cc
 * PluginConfig::maybeReloadHandleIfNeeded).
 */
export class JitteredLowerBoundBackOff {
  constructor(
    private readonly minMs: number,
    private readonly random: Random,
  ) {}

  nextBackOffMs(): number {
    return this.minMs + Math.floor(this.random() * Math.floor(this.minMs / 2));
  }
}
