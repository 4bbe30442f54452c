// masakari-monitors' process_list.yaml: a list of processes to keep running, each with the commands that start and
// restart it. Same keys and meaning, so an existing file works unchanged.

import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AppError, errorMessage } from '../../errors.ts';

/** Empty YAML values (`pre_start_command:`) come back as null: treat null and '' as "no command". */
const optionalCommand = z
  .string()
  .nullish()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : null));

/** PyYAML reads True/False/yes/no as booleans; accept the string spellings masakari users wrote too. */
const yamlBool = z
  .union([z.boolean(), z.enum(['True', 'False', 'true', 'false', 'yes', 'no', 'Yes', 'No'])])
  .nullish()
  .transform((v) => v === true || v === 'True' || v === 'true' || v === 'yes' || v === 'Yes');

export const processEntrySchema = z.object({
  /** Matched as a substring of each running process's command line (masakari looks for it in `ps -ef`). */
  process_name: z.string().trim().min(1, 'must not be empty'),
  start_command: optionalCommand,
  pre_start_command: optionalCommand,
  post_start_command: optionalCommand,
  restart_command: optionalCommand,
  pre_restart_command: optionalCommand,
  post_restart_command: optionalCommand,
  run_as_root: yamlBool,
});

export type ProcessEntry = z.infer<typeof processEntrySchema>;

export class ProcessListError extends AppError {
  readonly code = 'PROCESS_LIST_INVALID';

  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`process list ${path}: ${message}`);
  }
}

/** Parses the file's text. Throws ProcessListError naming the entry and key at fault. */
export function parseProcessList(text: string, path: string): ProcessEntry[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ProcessListError(path, `not valid YAML: ${errorMessage(e).split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new ProcessListError(path, 'must be a YAML list of processes (items starting with "-")');
  const out: ProcessEntry[] = [];
  doc.forEach((item, i) => {
    const r = processEntrySchema.safeParse(item);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const where = issue.path.length ? `.${issue.path.join('.')}` : '';
      throw new ProcessListError(path, `entry ${i + 1}${where}: ${issue.message}`);
    }
    out.push(r.data);
  });
  const seen = new Set<string>();
  for (const p of out) {
    if (seen.has(p.process_name)) throw new ProcessListError(path, `process_name ${p.process_name} is listed twice`);
    seen.add(p.process_name);
  }
  return out;
}

export async function loadProcessList(path: string): Promise<ProcessEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ProcessListError(path, `cannot read: ${errorMessage(e)}`);
  }
  return parseProcessList(text, path);
}

/** What masakari puts in the PROCESS notification: the last path component ("/usr/bin/nova-compute" -> "nova-compute"). */
export const notifiedProcessName = (processName: string): string => processName.split('/').pop() || processName;
