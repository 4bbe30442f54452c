// Cluster membership from Pacemaker: runs crm_mon (or reads a saved output) and parses its XML.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { ClusterDriver, ClusterSnapshot } from '../../../core/ports/cluster.ts';
import { CrmMonParseError, parseCrmMonXml } from './parse-crm-mon.ts';
import { errorMessage } from '../../../core/errors.ts';

export const DEFAULT_CRM_MON_COMMAND = ['crm_mon', '-1', '--output-as=xml', '--fence-history=3'];

export interface PacemakerDriverOptions {
  /** argv of the command printing crm_mon XML. */
  command?: string[];
  /** Read this file instead of running a command (`--crm-mon-xml`, tests). */
  xmlFile?: string | null;
  timeoutMs?: number;
  /** Extra environment for the command, e.g. {CIB_file: 'saved-cib.xml'}. */
  env?: Record<string, string>;
  now?: () => Date;
}

export class PacemakerDriver implements ClusterDriver {
  readonly name = 'pacemaker';
  private readonly command: string[];
  private readonly timeoutMs: number;
  private readonly now: () => Date;

  constructor(private readonly opts: PacemakerDriverOptions = {}) {
    this.command = opts.command?.length ? opts.command : DEFAULT_CRM_MON_COMMAND;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.now = opts.now ?? (() => new Date());
  }

  async snapshot(signal?: AbortSignal): Promise<ClusterSnapshot> {
    if (this.opts.xmlFile) {
      let text: string;
      try {
        text = await readFile(this.opts.xmlFile, 'utf8');
      } catch (e) {
        throw new CrmMonParseError(`cannot read crm_mon XML file ${this.opts.xmlFile}: ${errorMessage(e)}`);
      }
      return parseCrmMonXml(text, this.now());
    }
    const stdout = await this.run(signal);
    return parseCrmMonXml(stdout, this.now());
  }

  /**
   * crm_mon exits non-zero when it cannot reach the cluster but still prints an XML <status> explaining why, so
   * the output is parsed whatever the exit code; only "no output at all" is reported from the exit itself.
   */
  private run(signal?: AbortSignal): Promise<string> {
    const [file, ...args] = this.command as [string, ...string[]];
    return new Promise((resolve, reject) => {
      execFile(
        file,
        args,
        {
          timeout: this.timeoutMs,
          maxBuffer: 32 * 1024 * 1024,
          env: { ...process.env, ...this.opts.env },
          signal,
          killSignal: 'SIGKILL',
        },
        (err, stdout, stderr) => {
          if (stdout.trim().startsWith('<')) return resolve(stdout);
          if (err) {
            const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'command not found' : err.message.split('\n')[0];
            return reject(new CrmMonParseError(`${this.command.join(' ')} failed: ${why}${stderr.trim() ? `: ${stderr.trim().slice(0, 500)}` : ''}`));
          }
          reject(new CrmMonParseError(`${this.command.join(' ')} printed no XML${stderr.trim() ? `: ${stderr.trim().slice(0, 500)}` : ''}`));
        },
      );
    });
  }
}
