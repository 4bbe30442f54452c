// Keeps the processes of process_list.yaml running, like masakari-processmonitor: every check interval it looks
// for each process; a missing one is restarted (restart_retries + 1 attempts, restart_interval apart); when every
// attempt fails it sends PROCESS/STOPPED and leaves that process alone until it is seen running again.
// Differences from masakari (on purpose): processes are read from /proc instead of `ps -ef`; at start only the
// processes that are not running are started; a command fails by its exit code (stderr output alone is not a
// failure); commands have a timeout; the list is reloaded when the file changes, and a broken list keeps the old one.

import { hostname as osHostname } from 'node:os';
import { stat } from 'node:fs/promises';
import chokidar, { type FSWatcher } from 'chokidar';
import { AbortError, type Env } from '../../env.ts';
import type { Logger } from '../../log.ts';
import { monitorTimestamp, type NotificationDraft, type NotificationSink } from '../../ports/notify.ts';
import type { Monitor } from '../types.ts';
import { isRunning, scanProcesses, type RunningProcess } from './proc-scan.ts';
import { loadProcessList, notifiedProcessName, type ProcessEntry } from './process-list.ts';
import { runCommand, type CommandResult } from './run-command.ts';
import { errorMessage } from '../../errors.ts';
import { NO_COMPUTE_METRICS, type ComputeMetrics } from '../../observe/metric-set.ts';

export interface ProcessMonitorOptions {
  processListPath: string;
  checkIntervalMs: number;
  restartRetries: number;
  restartIntervalMs: number;
  commandTimeoutMs: number;
  /** The name this host has at the controller; default the OS hostname. */
  hostname?: string | null;
  sink: NotificationSink;
  env: Env;
  log: Logger;
  /** Reload the list when the file changes (off in tests that want a fixed list). */
  watchList?: boolean;
  /** For tests: where to read processes from. */
  scan?: () => Promise<RunningProcess[]>;
  metrics?: ComputeMetrics;
}

export class ProcessMonitor implements Monitor {
  readonly name = 'process';
  private list: ProcessEntry[] = [];
  /** Processes whose restart failed and were reported: not restarted again until seen running. */
  private readonly givenUpNames = new Set<string>();
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | null = null;
  private watcher: FSWatcher | null = null;
  private readonly log: Logger;
  private readonly hostname: string;
  /** mtime/size/inode of the list file as last read (valid or not), to notice changes the watcher missed. */
  private seenSignature: string | null = null;
  /** The pass in progress: a restart must never run twice at once for the same process. */
  private passes: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ProcessMonitorOptions) {
    this.log = opts.log.child({ component: 'process-monitor' });
    this.hostname = opts.hostname || osHostname();
  }

  /** The list in use (after the last successful load). */
  currentList(): readonly ProcessEntry[] {
    return this.list;
  }

  /** Processes reported as failed and not restarted until they come back. */
  givenUp(): string[] {
    return [...this.givenUpNames];
  }

  /** The watched processes, and those given up on (reported failed, not restarted until they come back). */
  health(): Record<string, unknown> {
    const givenUp = new Set(this.givenUpNames);
    return { watched: this.list.map((p) => ({ name: p.process_name, given_up: givenUp.has(p.process_name) })) };
  }

  async start(): Promise<void> {
    if (this.loop) return;
    await this.reload('start');
    if (this.opts.watchList !== false) await this.watch();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopCtl.abort();
    await this.watcher?.close();
    this.watcher = null;
    await this.loop;
  }

  /** Resolves once the watcher is armed, so that no change made after start() is missed. */
  private watch(): Promise<void> {
    this.watcher = chokidar.watch(this.opts.processListPath, { ignoreInitial: true, persistent: true });
    const ready = new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    const onChange = () => void this.reload('change');
    this.watcher.on('add', onChange).on('change', onChange);
    this.watcher.on('unlink', () => this.log.warn({ path: this.opts.processListPath }, 'process list file removed: keeping the list in use'));
    this.watcher.on('error', (err) => this.log.error({ err }, 'cannot watch the process list file'));
    return ready;
  }

  private async signature(): Promise<string | null> {
    try {
      const st = await stat(this.opts.processListPath);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return null;
    }
  }

  /** Safety net under the watcher (it can miss quick successive writes): reload when the file's stat changed. */
  private async reloadIfChanged(): Promise<void> {
    const sig = await this.signature();
    if (sig !== null && sig !== this.seenSignature) await this.reload('change');
  }

  private async reload(why: 'start' | 'change'): Promise<void> {
    this.seenSignature = await this.signature();
    try {
      this.list = await loadProcessList(this.opts.processListPath);
      for (const name of this.givenUpNames) if (!this.list.some((p) => p.process_name === name)) this.givenUpNames.delete(name);
      this.log.info({ path: this.opts.processListPath, processes: this.list.map((p) => p.process_name), why }, 'process list loaded');
    } catch (e) {
      this.log.error(
        { path: this.opts.processListPath, reason: errorMessage(e) },
        why === 'start' ? 'cannot load the process list: monitoring nothing until the file is fixed' : 'invalid process list: keeping the previous one',
      );
    }
  }

  private async run(): Promise<void> {
    const signal = this.stopCtl.signal;
    try {
      await this.startMissing(signal);
      while (!signal.aborted) {
        try {
          await this.check(signal);
        } catch (e) {
          if (signal.aborted) break;
          this.log.error({ err: e }, 'process check failed; trying again next interval');
        }
        await this.opts.env.sleep(this.opts.checkIntervalMs, signal);
      }
    } catch (e) {
      if (!(e instanceof AbortError) && !signal.aborted) this.log.error({ err: e }, 'process monitor stopped unexpectedly');
    }
  }

  private scan(): Promise<RunningProcess[]> {
    return this.opts.scan ? this.opts.scan() : scanProcesses();
  }

  /** Initial start of the listed processes that are not running yet. */
  private async startMissing(signal: AbortSignal): Promise<void> {
    const table = await this.scan();
    for (const p of this.list) {
      if (signal.aborted) return;
      if (isRunning(p.process_name, table)) continue;
      if (!p.start_command) continue;
      this.log.info({ process: p.process_name, command: p.start_command }, 'starting process');
      await this.runSequence(p, [p.pre_start_command, p.start_command, p.post_start_command], signal);
    }
  }

  /** One monitoring pass (masakari's monitor_processes + restart_processes). Passes never overlap. */
  check(signal: AbortSignal = this.stopCtl.signal): Promise<void> {
    const pass = this.passes.then(() => this.checkNow(signal));
    this.passes = pass.catch(() => undefined);
    return pass;
  }

  private async checkNow(signal: AbortSignal): Promise<void> {
    await this.reloadIfChanged();
    const table = await this.scan();
    for (const p of [...this.list]) {
      if (signal.aborted) return;
      const name = p.process_name;
      if (isRunning(name, table)) {
        if (this.givenUpNames.delete(name)) this.log.info({ process: name }, 'process is running again: watching and restarting it again');
        continue;
      }
      if (this.givenUpNames.has(name)) {
        // Already reported at error level when it was given up: only a debug line per pass, not a warning every 5 s.
        this.log.debug({ process: name }, 'process is down; not restarted because restarting it failed before');
        continue;
      }
      this.log.warn({ process: name }, 'process not found: restarting');
      const m = this.opts.metrics ?? NO_COMPUTE_METRICS;
      m.monitorEvents.inc({ monitor: this.name, kind: 'process_down' });
      const restarted = await this.restart(p, signal);
      if (!signal.aborted) m.processRestarts.inc({ process: name, result: restarted ? 'restarted' : 'failed' });
      if (restarted) continue;
      if (signal.aborted) return;
      await this.report(p);
    }
  }

  private async restart(p: ProcessEntry, signal: AbortSignal): Promise<boolean> {
    if (!p.restart_command) {
      this.log.error({ process: p.process_name }, 'process has no restart_command: cannot restart it');
      return false;
    }
    const attempts = this.opts.restartRetries + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const ok = await this.runSequence(p, [p.pre_restart_command, p.restart_command, p.post_restart_command], signal);
      if (ok) {
        this.log.info({ process: p.process_name, attempt }, 'process restarted');
        return true;
      }
      if (signal.aborted) return false;
      this.log.warn({ process: p.process_name, attempt, of: attempts }, 'restart attempt failed');
      if (attempt < attempts) await this.opts.env.sleep(this.opts.restartIntervalMs, signal).catch(() => undefined);
    }
    return false;
  }

  /** Runs pre, main, post in order; stops at the first failure. Null entries are skipped. */
  private async runSequence(p: ProcessEntry, commands: (string | null)[], signal: AbortSignal): Promise<boolean> {
    for (const command of commands) {
      if (!command) continue;
      const r: CommandResult = await runCommand(command, { runAsRoot: p.run_as_root, timeoutMs: this.opts.commandTimeoutMs, signal });
      const out = { process: p.process_name, command, stdout: r.stdout.trim() || undefined, stderr: r.stderr.trim() || undefined };
      if (!r.ok) {
        this.log.warn({ ...out, reason: r.error }, 'command failed');
        return false;
      }
      this.log.debug(out, 'command succeeded');
    }
    return true;
  }

  private async report(p: ProcessEntry): Promise<void> {
    const draft: NotificationDraft = {
      type: 'PROCESS',
      hostname: this.hostname,
      generated_time: monitorTimestamp(this.opts.env.now()),
      payload: { event: 'STOPPED', process_name: notifiedProcessName(p.process_name) },
    };
    try {
      await this.opts.sink.submit(draft);
      this.givenUpNames.add(p.process_name);
      this.log.error({ process: p.process_name }, 'could not restart the process: notified the controller');
    } catch (e) {
      // Not marked as given up: the next pass tries the restart again and reports again.
      this.log.error({ err: e, process: p.process_name }, 'could not restart the process and could not queue the notification');
    }
  }
}
