// Real crm_mon outputs recorded from a live Pacemaker cluster, committed in test/fixtures/crm_mon/ (where and how
// each was recorded: test/fixtures/README.md).

import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const crmMonDir = resolve(import.meta.dirname, '../../../fixtures/crm_mon');

export const crmMonFiles = (): string[] =>
  readdirSync(crmMonDir)
    .filter((f) => f.endsWith('.xml'))
    .sort();

export const crmMonFile = (name: string): string => join(crmMonDir, name);
