// `masakari db import-masakari` on SQLite: the probes and inserts of ../sql/import.ts in one IMMEDIATE transaction
// (the write lock is taken before the probes look, so nothing can slip in between the check and the inserts).

import { type ProbeRow, batchCounts, conflictProbes, insertStatements, takenIdQueries } from '../sql/import.ts';
import type { ImportConflict, ImportStore } from '../types.ts';
import type { Connection } from './connection.ts';

export function importRepo(conn: Connection): ImportStore {
  return {
    importRecords: async (batch, opts) => {
      const counts = batchCounts(batch);
      try {
        return conn.db
          .transaction(() => {
            const conflicts: ImportConflict[] = [];
            for (const p of conflictProbes(batch)) conflicts.push(...p.judge(conn.db.prepare(p.sql).all(...p.params) as ProbeRow[]));
            const taken: Record<string, Set<number>> = {};
            for (const q of takenIdQueries(batch)) {
              const set = (taken[q.table] ??= new Set());
              for (const r of conn.db.prepare(q.sql).all(...q.params) as { id: number }[]) set.add(r.id);
            }
            const { statements, renumbered } = insertStatements(batch, taken);
            if (conflicts.length || opts.dryRun) return { conflicts, written: false, counts, renumbered };
            for (const s of statements) conn.db.prepare(s.sql).run(...s.params);
            return { conflicts, written: true, counts, renumbered };
          })
          .immediate();
      } finally {
        conn.noteWrite();
      }
    },
  };
}
