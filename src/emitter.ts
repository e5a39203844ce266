/**
 * A minimal typed event emitter. Listeners run asynchronously (in a
 * microtask, in emit order), so no listener can re-enter the code that
 * emitted, and a throwing listener cannot break the emitter's caller.
 *
 * Events emitted in one burst share one microtask: a push to 10,000 nodes
 * emits 10,000 push events and then 10,000 ACK events, and one microtask
 * (and closure) per event was a cost per node on the hot path
 * (docs/PERFORMANCE.md, round two). Events emitted while the queue is being
 * delivered join the same delivery, still in order.
 */
export type Listener<E> = (event: E) => void;

export class Emitter<E> {
  private readonly listeners = new Set<Listener<E>>();
  private queue: E[] = [];
  private scheduled = false;

  /** Subscribes; returns the unsubscribe function. */
  on(listener: Listener<E>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: E): void {
    if (this.listeners.size === 0) return;
    this.queue.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.deliver());
  }

  private deliver(): void {
    // Index loop: listeners may emit more, which are appended and delivered here, in order.
    const queue = this.queue;
    for (let i = 0; i < queue.length; i++) {
      const event = queue[i] as E;
      for (const l of this.listeners) {
        try {
          l(event);
        } catch {
          // A listener's bug must not stop the others.
        }
      }
    }
    this.queue = [];
    this.scheduled = false;
  }
}
