// GET /v1/x-masakari/events: the event stream (Server-Sent Events; an extension, not part of Masakari's API).
// Every bus event (docs/observability.md lists them) as
//   id: <integer, increasing>\nevent: <type>\ndata: {"type", "at", "payload"}\n\n
// The ids are the store's (table `events`), the same on every controller sharing it. A client that reconnects with
// Last-Event-ID (header, or ?last_event_id= for clients that cannot set headers) gets every event after that id
// still in the history, then the live ones; without it, the stream starts with the next event. When the id it
// asks for is older than the history, an `event: history.truncated` frame (no id) says which ids are gone.
// Idle streams get a comment line every events.heartbeat_seconds so proxies keep them open.
//
// Ordering across controllers: MySQL hands out autoincrement ids at insert, and a transaction may commit after
// one with a higher id. A stream therefore waits (up to GAP_WAIT_MS) at a hole in the ids before skipping it, so a
// late commit is not skipped over; SQLite has one writer and no such holes.

import type { Hono } from 'hono';
import { badRequest } from '../../../domain/errors.ts';
import type { Logger } from '../../../log.ts';
import type { EventFeed } from '../../../observe/history.ts';
import type { EventStore, StoredEvent } from '../../../store/types.ts';
import type { ApiEnv } from '../../context.ts';
import { REQUEST_ID_HEADER } from '../../middleware/request-id.ts';
import { authorize, type ResourceDeps } from '../common.ts';

export const EVENTS_RULE = 'masakari_ext:events:get';
const BATCH = 500;
const GAP_WAIT_MS = 5000;

export interface EventStreamDeps {
  store: EventStore;
  feed?: EventFeed;
  heartbeatMs: number;
  pollMs: number;
  log: Logger;
}

let openStreams = 0;
/** Event streams open in this process (for the metrics, and tests that check a closed client ends its stream). */
export const openEventStreams = (): number => openStreams;

export function sseFrame(e: StoredEvent): string {
  const data = JSON.stringify({ type: e.type, at: e.at.toISOString(), payload: e.payload });
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${data}\n\n`;
}

function resumeIdOf(header: string | undefined, query: string | undefined): number | undefined {
  const raw = header ?? query;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\d{1,15}$/.test(raw.trim())) throw badRequest(`Invalid Last-Event-ID ${raw}: it must be an event id (a non-negative integer)`);
  return Number(raw.trim());
}

/** Waits until the feed signals an append, `ms` passes, or the stream is cancelled. */
function waitForEvents(feed: EventFeed | undefined, ms: number, cancelled: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      off?.();
      cancelled.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const off = feed?.onAppend(done);
    cancelled.addEventListener('abort', done);
  });
}

export function eventStream(d: EventStreamDeps, resumeId: number | undefined, requestSignal?: AbortSignal): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const cancelled = new AbortController();
  requestSignal?.addEventListener('abort', () => cancelled.abort());
  let last: number | undefined = resumeId;
  let started = false;
  let lastWrite = Date.now();
  let gap: { after: number; since: number } | undefined;
  let counted = false;
  const release = () => {
    if (counted) openStreams--;
    counted = false;
  };
  cancelled.signal.addEventListener('abort', release);

  /** The events after `last` that may be sent now (contiguous, or after a hole that waited long enough). */
  const next = async (): Promise<StoredEvent[]> => {
    const rows = await d.store.listEventsAfter(last!, BATCH);
    const out: StoredEvent[] = [];
    for (const r of rows) {
      const expected = (out.length ? out[out.length - 1]!.id : last!) + 1;
      if (r.id !== expected) {
        const after = out.length ? out[out.length - 1]!.id : last!;
        if (!gap || gap.after !== after) gap = { after, since: Date.now() };
        if (Date.now() - gap.since < GAP_WAIT_MS) break;
      }
      out.push(r);
    }
    if (out.length) {
      last = out[out.length - 1]!.id;
      gap = undefined;
    }
    return out;
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (!started) {
          started = true;
          counted = true;
          openStreams++;
          const range = await d.store.eventIdRange();
          let head = 'retry: 2000\n: masakari event stream\n\n';
          if (last === undefined) last = range.last;
          else if (range.first > 0 && last < range.first - 1) {
            head += `event: history.truncated\ndata: ${JSON.stringify({ requested_after: last, oldest_available: range.first })}\n\n`;
            last = range.first - 1;
          }
          controller.enqueue(enc.encode(head));
          return;
        }
        while (!cancelled.signal.aborted) {
          const events = await next();
          if (events.length) {
            lastWrite = Date.now();
            controller.enqueue(enc.encode(events.map(sseFrame).join('')));
            return;
          }
          const untilHeartbeat = d.heartbeatMs - (Date.now() - lastWrite);
          if (untilHeartbeat <= 0) {
            lastWrite = Date.now();
            controller.enqueue(enc.encode(': heartbeat\n\n'));
            return;
          }
          await waitForEvents(d.feed, Math.min(untilHeartbeat, gap ? 200 : d.pollMs), cancelled.signal);
        }
        release();
        controller.close();
      } catch (e) {
        release();
        if (cancelled.signal.aborted) return;
        d.log.warn({ err: e }, 'event stream ended by an error');
        controller.error(e);
      }
    },
    cancel() {
      cancelled.abort();
    },
  });
}

export function eventRoutes(app: Hono<ApiEnv>, d: ResourceDeps, s: Omit<EventStreamDeps, 'log'>): void {
  app.get('/x-masakari/events', (c) => {
    authorize(c, d, EVENTS_RULE);
    const resumeId = resumeIdOf(c.req.header('last-event-id'), c.req.query('last_event_id'));
    const body = eventStream({ ...s, log: d.log }, resumeId, c.req.raw.signal);
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache',
        Connection: 'keep-alive',
        // nginx: do not buffer the stream.
        'X-Accel-Buffering': 'no',
        [REQUEST_ID_HEADER]: c.get('requestId'),
      },
    });
  });
}
