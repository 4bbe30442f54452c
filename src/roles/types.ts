import type { Config } from '../core/config/schema.ts';
import type { Logger } from '../core/log.ts';

export interface Running {
  stop(): Promise<void>;
}
export type StartRole = (config: Config, log: Logger) => Promise<Running>;
