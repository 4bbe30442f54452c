// The real crm_mon outputs recorded from a live Pacemaker cluster live in the shared reference folder, beside the
// repository (../shared/reference): read at test time, never copied into the repository.

import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '../../../..');

export const crmMonDir: string | null =
  [join(repoRoot, '../shared/reference/crm_mon'), '/work/shared/reference/crm_mon'].find((d) => existsSync(d)) ?? null;

export const crmMonFiles = (): string[] => (crmMonDir ? readdirSync(crmMonDir).filter((f) => f.endsWith('.xml')).sort() : []);

export const crmMonFile = (name: string): string => join(crmMonDir ?? '/nonexistent', name);
