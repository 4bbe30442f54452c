// --role=all: the controller lives in the same process, so a notification is handed to a function instead of
// going over HTTP. The function throws what the API would answer with (a MasakariError carrying 400/409...).

import { MasakariError } from '../domain/errors.ts';
import { errorMessage } from '../errors.ts';
import type { NotificationDraft } from '../ports/notify.ts';
import { outcomeOfStatus, type NotificationTransport, type SendOutcome } from '../ports/notification-transport.ts';

export type AcceptNotification = (draft: NotificationDraft) => Promise<unknown>;

export class LocalTransport implements NotificationTransport {
  readonly name = 'local';
  constructor(private readonly accept: AcceptNotification) {}

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
