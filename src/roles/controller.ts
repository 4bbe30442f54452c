// Wiring only: builds the controller role from core and drivers. No logic lives here.
import type { Config } from '../core/config/schema.ts';
import type { Logger } from '../core/log.ts';
import type { Running } from './types.ts';

export async function start(_config: Config, log: Logger): Promise<Running> {
  log.error('the controller role is not implemented yet');
  throw new Error('the controller role is not implemented yet');
}
