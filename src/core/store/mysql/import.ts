// `masakari db import-masakari` on MySQL/MariaDB: the probes and inserts of ../sql/import.ts in one transaction.
// Under READ COMMITTED the probes take no locks; a controller that creates the same name or UUID between a probe
// and the inserts makes an insert fail on the unique key, and the transaction rolls back whole: still nothing changed.

import { type ProbeRow, batchCounts, conflictProbes, insertStatements, takenIdQueries } from '../sql/import.ts';
import type { ImportConflict, ImportStore } from '../types.ts';
import type { Db } from './connection.ts';

export function importRepo(db: Db): ImportStore {
  return {
    importRecords: (batch, opts) =>
      db.tx(async (c) => {
        const counts = batchCounts(batch);
        const conflicts: ImportConflict[] = [];
        for (const p of conflictProbes(batch)) conflicts.push(...p.judge(await c.rows<ProbeRow>(p.sql, p.params)));
        const taken: Record<string, Set<number>> = {};
        for (const q of takenIdQueries(batch)) {
          const set = (taken[q.table] ??= new Set());
          for (const r of await c.rows<{ id: number }>(q.sql, q.params)) set.add(Number(r.id));
        }
        const { statements, renumbered } = insertStatements(batch, taken);
        if (conflicts.length || opts.dryRun) return { conflicts, written: false, counts, renumbered };
        for (const s of statements) await c.run(s.sql, s.params);
        return { conflicts, written: true, counts, renumbered };
      }),
  };
}
