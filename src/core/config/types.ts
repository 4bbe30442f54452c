import { z } from 'zod';

/** "HOST:PORT", "[v6]:PORT" or ":PORT" (all addresses). */
export const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'must be HOST:PORT, e.g. 127.0.0.1:15868')
  .refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1));
    return port >= 0 && port <= 65535;
  }, 'port must be 0..65535');

export function splitHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  let host = s.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host: host === '' ? '0.0.0.0' : host, port: Number(s.slice(i + 1)) };
}

/** Seconds as a non-negative number (fractions allowed, for tests and the simulator). */
export const seconds = (def: number) => z.number().min(0).default(def);
