/**
 * What every console page is: built into a <main> element, refreshed every
 * second while it is shown (the live updates), dropped when the operator
 * goes elsewhere. Shared state (the chart samples, the message line) comes
 * through Context.
 */
import type { SeriesStore } from "./charts";

export interface Context {
  /** Samples for charts, kept while the tab is open (all pages add to it). */
  readonly samples: SeriesStore;
  /** Shows a message in the page's status line (role=status, announced). */
  say(message: string, kind?: "info" | "error"): void;
}

export interface Page {
  /** Fetches and shows the current state; called at once and then every second. */
  refresh(): Promise<void>;
  /** The page is left: stop anything it started. */
  destroy?(): void;
}

export type PageFactory = (root: HTMLElement, ctx: Context, arg: string) => Page;

/** Calls `render` only when the JSON of `data` differs from last time: no DOM work for an unchanged answer. */
export function changed<T>(): (data: T) => boolean {
  let last = "";
  return (data) => {
    const text = JSON.stringify(data);
    if (text === last) return false;
    last = text;
    return true;
  };
}
