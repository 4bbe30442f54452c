// The event stream's history: every bus event is written to the store (table `events`), where the store's
// autoincrement gives it its stream id. The event stream (GET /v1/x-masakari/events) reads only from there, so every
// client of every controller sharing the store sees the same ids, and a client resumes with Last-Event-ID on any
// controller, across restarts. Only the newest events.history_size are kept.
//
// Writing never blocks the producer: events are queued and written in batches, in publish order (one batch in
// flight at a time). A store failure is logged and the batch retried; the queue is bounded, and when it overflows
// the oldest events are dropped (counted, logged). stop() writes what is queued before the store closes, so a
// controller that stops cleanly loses none.

import type { Logger } from '../log.ts';
import type { EventStore, NewStoredEvent } from '../store/types.ts';
import { errorMessage } from '../errors.ts';
import type { EventBus } from './bus.ts';

export interface EventHistoryOptions {
  keep: number;
  /** Most events waiting for the store before the oldest are dropped. */
  maxQueued?: number;
  /** Delay before retrying a failed write. */
  retryMs?: number;
}

/** What the event stream needs from the history: a signal that new events may be in the store. */
export interface EventFeed {
  /** Calls `listener` after each batch this process wrote; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void;
}

export interface EventHistory extends EventFeed {
  /** Resolves once everything queued so far is in the store (or failed for good). */
  flush(): Promise<void>;
  /** Unsubscribes from the bus and writes what is queued. */
  stop(): Promise<void>;
  /** Events dropped because the store could not keep up or failed (since start). */
  readonly dropped: number;
}

export function startEventHistory(bus: EventBus, store: EventStore, log: Logger, opts: EventHistoryOptions): EventHistory {
  const hlog = log.child({ component: 'event-history' });
  const maxQueued = opts.maxQueued ?? 10_000;
  const retryMs = opts.retryMs ?? 1000;
  const queue: NewStoredEvent[] = [];
  const listeners = new Set<() => void>();
  let writing: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let dropped = 0;
  let stopped = false;

  const writeLoop = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.slice(0, 500);
      try {
        await store.appendEvents(batch, opts.keep);
      } catch (e) {
        hlog.warn({ err: errorMessage(e), queued: queue.length }, 'could not write events to the history; retrying');
        if (stopped) return;
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          kick();
        }, retryMs);
        retryTimer.unref();
        return;
      }
      queue.splice(0, batch.length);
      for (const l of listeners) {
        try {
          l();
        } catch (e) {
          hlog.warn({ err: e }, 'an event stream listener failed');
        }
      }
    }
  };

  function kick(): void {
    if (writing || retryTimer) return;
    writing = new Promise<void>((resolve) => setImmediate(resolve)).then(writeLoop).finally(() => {
      writing = undefined;
      if (queue.length > 0 && !retryTimer && !stopped) kick();
    });
  }

  const unsubscribe = bus.subscribe((e) => {
    if (stopped) return;
    queue.push({ type: e.type, at: e.at, payload: e.payload });
    if (queue.length > maxQueued) {
      queue.shift();
      if (dropped++ % 1000 === 0) hlog.warn({ dropped }, 'event history queue full (store too slow or failing): dropping the oldest events');
    }
    kick();
  });

  /** The write in progress (a function: kick() replaces it, which TypeScript's narrowing would not see). */
  const current = (): Promise<void> | undefined => writing;
  const flush = async (): Promise<void> => {
    for (let w = current(); w; w = current()) await w;
    if (queue.length > 0 && !retryTimer) {
      kick();
      for (let w = current(); w; w = current()) await w;
    }
  };

  return {
    onAppend(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    flush,
    async stop() {
      unsubscribe();
      if (retryTimer) {
        clearTimeout(retryTimer);
        retryTimer = undefined;
      }
      // One last attempt at what is queued, without retries: the store closes next.
      stopped = true;
      await flush();
      if (queue.length) hlog.warn({ lost: queue.length }, 'stopping with events not written to the history');
    },
    get dropped() {
      return dropped;
    },
  };
}
