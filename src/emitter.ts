/**
 * A minimal typed event emitter. Listeners run asynchronously (in a
 * microtask, in emit order), so no listener can re-enter the code that
 * emitted, and a throwing listener cannot break the emitter's caller.
 */
export type Listener<E> = (event: E) => void;

export class Emitter<E> {
  private readonly listeners = new Set<Listener<E>>();

  /** Subscribes; returns the unsubscribe function. */
  on(listener: Listener<E>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: E): void {
    if (this.listeners.size === 0) return;
    queueMicrotask(() => {
      for (const l of this.listeners) {
        try {
          l(event);
        } catch {
          // A listener's bug must not stop the others.
        }
      }
    });
  }
}
