// The event stream's history on MySQL (table `events`, migration 0004).

import { dateFromMicros } from '../../domain/time.ts';
import { us } from '../sql/rows.ts';
import type { EventStore, StoredEvent } from '../types.ts';
import type { Db } from './connection.ts';
import type { EventRow } from './schema.ts';

const toStoredEvent = (r: EventRow): StoredEvent => ({
  id: Number(r.id),
  type: r.type,
  at: dateFromMicros(Number(r.at)),
  payload: JSON.parse(r.payload) as Record<string, unknown>,
});

export function eventRepo(db: Db): EventStore {
  return {
    appendEvents: (events, keep) =>
      db.tx(async (c) => {
        const ids: number[] = [];
        for (const e of events)
          ids.push((await c.run('INSERT INTO events (type, at, payload) VALUES (?, ?, ?)', [e.type, us(e.at), JSON.stringify(e.payload)])).insertId);
        if (ids.length) await c.run('DELETE FROM events WHERE id <= ?', [ids[ids.length - 1]! - keep]);
        return ids;
      }),

    listEventsAfter: async (afterId, limit) =>
      (await db.rows<EventRow>('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?', [afterId, limit])).map(toStoredEvent),

    eventIdRange: async () => {
      const [r] = await db.rows<{ first: number | null; last: number | null }>('SELECT MIN(id) AS first, MAX(id) AS last FROM events');
      return { first: Number(r?.first ?? 0), last: Number(r?.last ?? 0) };
    },
  };
}
