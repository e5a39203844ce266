/**
 * google.protobuf.Duration and Timestamp are both {seconds, nanos}: one
 * conversion to and from whole milliseconds, for the resource builders, the
 * proto JSON converter, the simulator and the stats ingest.
 */

/** A Duration or Timestamp as the encoder takes it. */
export interface ProtoTime {
  readonly seconds: number;
  readonly nanos: number;
}

/** A decoded Duration or Timestamp (seconds may arrive as a string: int64). */
export interface DecodedProtoTime {
  readonly seconds?: string | number | null;
  readonly nanos?: number | null;
}

export function protoTimeFromMs(ms: number): ProtoTime {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

export function msFromProtoTime(t: DecodedProtoTime): number {
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1_000_000);
}
