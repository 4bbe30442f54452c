// Which processes run, read straight from /proc: the same information as masakari's `ps -ef` (command lines),
// without spawning a program every few seconds.

import { readdir, readFile } from 'node:fs/promises';

export interface RunningProcess {
  pid: number;
  /** argv joined with spaces, as ps prints it; "[comm]" for kernel threads and processes without a command line. */
  commandLine: string;
}

export async function scanProcesses(procRoot = '/proc'): Promise<RunningProcess[]> {
  const entries = await readdir(procRoot);
  const out: RunningProcess[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const pid = Number(e);
        try {
          const raw = await readFile(`${procRoot}/${e}/cmdline`, 'latin1');
          let commandLine = raw.replace(/\0+$/, '').replace(/\0/g, ' ');
          if (commandLine === '') {
            // Zombies have neither a command line nor anything to restart: ps shows them as <defunct>; skip them.
            const stat = await readFile(`${procRoot}/${e}/stat`, 'latin1');
            if (/\) Z /.test(stat)) return;
            const comm = (await readFile(`${procRoot}/${e}/comm`, 'latin1')).trim();
            commandLine = `[${comm}]`;
          }
          out.push({ pid, commandLine });
        } catch {
          // the process ended while we looked: it simply is not running
        }
      }),
  );
  return out;
}

/** masakari's test: is `processName` anywhere in a running process's command line? Our own process never counts. */
export function isRunning(processName: string, table: RunningProcess[], selfPid = process.pid): boolean {
  return table.some((p) => p.pid !== selfPid && p.commandLine.includes(processName));
}
