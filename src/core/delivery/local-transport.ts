// --role=all: the controller lives in the same process, so a notification is handed to a function instead of
// going over HTTP. The function throws what the API would answer with (a MasakariError carrying 400/409...).

import { MasakariError } from '../domain/errors.ts';
import { errorMessage } from '../errors.ts';
import type { AgentHeartbeat } from '../ports/heartbeat.ts';
import type { NotificationDraft } from '../ports/notify.ts';
import { outcomeOfStatus, type NotificationTransport, type SendOutcome } from '../ports/notification-transport.ts';

export type AcceptNotification = (draft: NotificationDraft) => Promise<unknown>;
export type AcceptHeartbeat = (hb: AgentHeartbeat) => Promise<unknown>;

export class LocalTransport implements NotificationTransport {
  readonly name = 'local';
  constructor(
    private readonly accept: AcceptNotification,
    private readonly acceptHeartbeat?: AcceptHeartbeat,
  ) {}

  async heartbeat(hb: AgentHeartbeat): Promise<SendOutcome> {
    if (!this.acceptHeartbeat) return { kind: 'rejected', status: 404, message: 'no heartbeat intake in this process' };
    try {
      await this.acceptHeartbeat(hb);
      return { kind: 'accepted', status: 204 };
    } catch (e) {
      if (e instanceof MasakariError) return outcomeOfStatus(e.status, e.message);
      return { kind: 'retry', message: errorMessage(e) };
    }
  }

  async send(draft: NotificationDraft): Promise<SendOutcome> {
    try {
      await this.accept(draft);
      return { kind: 'accepted', status: 202 };
    } catch (e) {
      if (e instanceof MasakariError) return outcomeOfStatus(e.status, e.message);
      // Anything unexpected (store busy, engine starting): keep the draft and try again, as over HTTP.
      return { kind: 'retry', message: errorMessage(e) };
    }
  }
}
