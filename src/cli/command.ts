/**
 * What a command is: its name, help texts and run function. Its own file so
 * that the command modules and the table that loads them (main.ts) do not
 * import each other.
 */
import type { Terminal } from "./output";

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: string[], term: Terminal, signal: AbortSignal): Promise<number>;
}
