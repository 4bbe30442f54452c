// A minimal stand-in for the API's event stream (GET /v1/x-masakari/events, the observe helper's contract: SSE
// frames `id`, `event: <type>`, `data: {"type","at","payload"}`), used only by the dashboard tests until the real
// stream is built into the controller. It sits in front of the API app through the dashboard's test hook
// (ApiDeps.dashboard.wrapApi); every other request goes to the real API app.

import type { ApiFetch } from '../../src/core/dashboard/api-client.ts';

export class StandInEvents {
  private readonly clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  private id = 0;
  /** How many streams were opened (a reconnect opens a new one). */
  opened = 0;

  wrap = (inner: ApiFetch): ApiFetch => {
    return async (req) => (new URL(req.url).pathname === '/v1/x-masakari/events' ? this.stream(req) : inner(req));
  };

  get connected(): number {
    return this.clients.size;
  }

  private stream(req: Request): Response {
    let me: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (ctl) => {
        me = ctl;
        this.clients.add(ctl);
        this.opened++;
        // A short reconnection delay, so the reconnect test does not wait EventSource's default.
        ctl.enqueue(new TextEncoder().encode('retry: 500\n\n'));
      },
      cancel: () => {
        this.clients.delete(me);
      },
    });
    req.signal.addEventListener('abort', () => this.clients.delete(me));
    return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
  }

  publish(type: string, payload: Record<string, unknown>): void {
    const frame = `id: ${++this.id}\nevent: ${type}\ndata: ${JSON.stringify({ type, at: new Date().toISOString(), payload })}\n\n`;
    const bytes = new TextEncoder().encode(frame);
    for (const c of this.clients) {
      try {
        c.enqueue(bytes);
      } catch {
        this.clients.delete(c);
      }
    }
  }

  /** Ends every open stream (as a controller going away would). */
  dropAll(): void {
    for (const c of this.clients) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    this.clients.clear();
  }
}
