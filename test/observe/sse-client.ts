// A minimal Server-Sent Events client over fetch, as a browser's EventSource reads a stream: frames end with a
// blank line; `id:`, `event:`, `data:` fields; lines starting with ':' are comments.

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

export interface SseClient {
  status: number;
  headers: Headers;
  /** Frames received so far (comments included, as frames with only `comment`). */
  frames: SseFrame[];
  /** Waits until `pred` holds for the frames received, or fails after `ms`. */
  until(what: string, pred: (frames: SseFrame[]) => boolean, ms?: number): Promise<void>;
  close(): void;
  /** The body as received (for a non-200 answer: the error document). */
  text(): string;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
  const frames: SseFrame[] = [];
  let raw = '';
  let buf = '';
  let ended = false;
  const waiters = new Set<() => void>();
  const parse = () => {
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const f: SseFrame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) f.comment = (f.comment ? f.comment + '\n' : '') + line.slice(1).trim();
        else {
          const c = line.indexOf(':');
          const k = c < 0 ? line : line.slice(0, c);
          const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
          if (k === 'id' || k === 'event') f[k] = v;
          else if (k === 'data') f.data = f.data === undefined ? v : `${f.data}\n${v}`;
        }
      }
      frames.push(f);
    }
    for (const w of waiters) w();
  };
  void (async () => {
    try {
      const dec = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const s = dec.decode(chunk, { stream: true });
        raw += s;
        buf += s;
        parse();
      }
    } catch {
      /* aborted */
    } finally {
      ended = true;
      for (const w of waiters) w();
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    frames,
    text: () => raw,
    until(what, pred, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pred(frames)) {
            cleanup();
            resolve();
          } else if (ended) {
            cleanup();
            reject(new Error(`stream ended before ${what}; got ${JSON.stringify(frames.slice(-5))}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(frames.slice(-5))}`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => ac.abort(),
  };
}
