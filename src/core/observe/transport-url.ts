// oslo.messaging's transport_url, as Masakari's [DEFAULT]/[oslo_messaging_notifications] take it:
//   rabbit://USER:PASS@HOST:PORT[,USER:PASS@HOST:PORT...]/VHOST[?options]
// Several hosts are tried in turn (a RabbitMQ cluster); the virtual host is the path ("/" or empty: the default
// vhost "/"). User and password are percent-decoded, as oslo.messaging does. Query options are accepted and ignored.

import { AppError } from '../errors.ts';

export interface BrokerAddress {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface TransportUrl {
  scheme: 'rabbit' | 'amqp';
  hosts: BrokerAddress[];
  vhost: string;
}

/** oslo_messaging_notifications.transport_url does not parse; the config check reports it with the key's path. */
export class TransportUrlError extends AppError {
  readonly code = 'TRANSPORT_URL_INVALID';
}

const DEFAULT_PORT = 5672;

function parseHost(part: string): BrokerAddress {
  const at = part.lastIndexOf('@');
  const userinfo = at >= 0 ? part.slice(0, at) : '';
  const hostport = at >= 0 ? part.slice(at + 1) : part;
  const colon = userinfo.indexOf(':');
  const user = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo) || 'guest';
  const password = colon >= 0 ? decodeURIComponent(userinfo.slice(colon + 1)) : 'guest';
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hostport);
  if (!m) throw new TransportUrlError(`"${hostport}" is not HOST[:PORT]`);
  const port = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (port < 1 || port > 65535) throw new TransportUrlError(`port ${port} is not 1..65535`);
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port, user, password };
}

/** Parses a transport_url; throws TransportUrlError saying what is wrong (without the password). */
export function parseTransportUrl(url: string): TransportUrl {
  const m = /^([a-z]+):\/\/([^/?]*)(\/[^?]*)?(\?.*)?$/.exec(url);
  if (!m) throw new TransportUrlError('must look like rabbit://USER:PASS@HOST:PORT/VHOST');
  const scheme = m[1]!;
  if (scheme !== 'rabbit' && scheme !== 'amqp') throw new TransportUrlError(`scheme ${scheme}:// is not supported (rabbit:// only)`);
  if (!m[2]) throw new TransportUrlError('names no broker host');
  const hosts = m[2].split(',').map(parseHost);
  const path = m[3] ?? '/';
  const vhost = path === '/' || path === '' ? '/' : decodeURIComponent(path.slice(1));
  return { scheme, hosts, vhost };
}
