// The event stream's history (table `events`, migration 0004): append with trim, and reads after an id.

import { dateFromMicros } from '../../domain/time.ts';
import { us } from '../sql/rows.ts';
import type { EventStore, StoredEvent } from '../types.ts';
import type { Connection } from './connection.ts';
import type { EventRow } from './schema.ts';

export const toStoredEvent = (r: EventRow): StoredEvent => ({
  id: r.id,
  type: r.type,
  at: dateFromMicros(r.at),
  payload: JSON.parse(r.payload) as Record<string, unknown>,
});

export function eventRepo(conn: Connection): EventStore {
  return {
    appendEvents: (events, keep) =>
      conn.write(() => {
        const insert = conn.stmt<{ id: number }>('INSERT INTO events (type, at, payload) VALUES (?, ?, ?) RETURNING id');
        const ids = events.map((e) => insert.get(e.type, us(e.at), JSON.stringify(e.payload))!.id);
        if (ids.length) conn.stmt('DELETE FROM events WHERE id <= ?').run(ids[ids.length - 1]! - keep);
        return ids;
      }),

    listEventsAfter: async (afterId, limit) =>
      conn.stmt<EventRow>('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit).map(toStoredEvent),

    eventIdRange: async () => {
      const r = conn.stmt<{ first: number | null; last: number | null }>('SELECT MIN(id) AS first, MAX(id) AS last FROM events').get()!;
      return { first: r.first ?? 0, last: r.last ?? 0 };
    },
  };
}
