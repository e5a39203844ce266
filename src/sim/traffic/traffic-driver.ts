/**
 * Synthetic traffic for one node: `rps` requests (HTTP listeners) or
 * connections (TCP listeners) per second, spread round-robin over the
 * node's serving listeners. Each node starts at a random phase so a fleet
 * does not fire in lockstep.
 */
import type { Random } from "../backoff";
import type { Clock, TimerHandle } from "../../time/clock";
import type { HttpRequestInput } from "./http-stream";
import type { TcpConnectionInput } from "./tcp-connection";

export interface TrafficOptions {
  /** Requests or connections per second for this node; 0 turns traffic off. */
  readonly rps: number;
  /** The synthetic HTTP request (default: GET / with authority sim.local). */
  readonly http?: HttpRequestInput;
  /** The synthetic TCP connection's downstream data (default "ping\n"). */
  readonly tcp?: TcpConnectionInput;
}

export class TrafficDriver {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly rps: number,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly tick: () => void,
  ) {}

  start(): void {
    if (this.running || this.rps <= 0) return;
    this.running = true;
    const interval = 1000 / this.rps;
    let next = this.clock.now() + this.random() * interval;
    const arm = () => {
      this.timer = this.clock.setTimeout(
        () => {
          if (!this.running) return;
          // Catch up after a stall without bursting: at most one request per timer.
          next = Math.max(next + interval, this.clock.now());
          this.tick();
          if (this.running) arm();
        },
        Math.max(0, next - this.clock.now()),
      );
    };
    arm();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }
}
