import type { Config } from '../core/config/schema.ts';
import type { Logger } from '../core/log.ts';

export interface Running {
  stop(): Promise<void>;
  /** What has not stopped yet, in stop order (named in the log when a shutdown overruns shutdown_timeout). */
  pending?(): string[];
}
export type StartRole = (config: Config, log: Logger) => Promise<Running>;
