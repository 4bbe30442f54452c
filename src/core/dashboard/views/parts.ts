// Building blocks of every page. All markup goes through hono's `html` tagged template, which escapes every
// interpolated value (names, messages, payloads come from users and hosts: a segment called <script> is text).
// Nothing here uses raw() on data.

import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Viewer } from '../session.ts';
import { CSRF_FIELD } from '../session.ts';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface PageFrame {
  title: string;
  /** Which navigation entry is the current page. */
  nav: 'overview' | 'manage' | null;
  viewer: Viewer | null;
  csrf: string;
  /** Under keystone: the logout button. */
  loginEnabled: boolean;
  /** The page takes live updates (the events URL goes on <body>). */
  live: boolean;
  flash?: { kind: 'done' | 'alert'; text: string } | undefined;
}

export const BASE = '/dashboard';

export function layout(f: PageFrame, body: Html): Html {
  const current = (n: PageFrame['nav']) => (f.nav === n ? html` aria-current="page"` : '');
  const who = f.viewer?.userName ? `${f.viewer.userName}${f.viewer.projectName ? ` · ${f.viewer.projectName}` : ''}` : null;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${f.title} · masakari</title>
<link rel="stylesheet" href="${BASE}/static/style.css">
<script src="${BASE}/static/app.js" defer></script>
</head>
<body${f.live ? html` data-events="${BASE}/events"` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <nav aria-label="Main">
    <ul>
      <li><a class="brand" href="${BASE}/">masakari</a></li>
      ${
        f.viewer
          ? html`<li><a href="${BASE}/" ${current('overview')}>Overview</a></li>
              <li><a href="${BASE}/manage" ${current('manage')}>Segments and hosts</a></li>`
          : ''
      }
    </ul>
  </nav>
  ${
    f.viewer && f.loginEnabled
      ? html`<div class="who">
          <span>Signed in as ${who ?? f.viewer.caller.userId ?? 'unknown'}</span>
          <form class="inline" method="post" action="${BASE}/logout">${csrfInput(f.csrf)}<button type="submit">Log out</button></form>
        </div>`
      : ''
  }
</header>
<div id="live-banner" role="status" aria-live="polite" hidden></div>
<main id="main" tabindex="-1">
<h1>${f.title}</h1>
${f.flash ? html`<p class="${f.flash.kind}" role="${f.flash.kind === 'alert' ? 'alert' : 'status'}">${f.flash.text}</p>` : ''}
${body}
</main>
</body>
</html>`;
}

export const csrfInput = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}" />`;

/** A status word in a coloured pill; the word carries the meaning, the colour only helps. */
export function badge(text: string, tone: 'ok' | 'bad' | 'warn' | 'run' | 'muted'): Html {
  return html`<span class="badge ${tone}">${text}</span>`;
}

const STATUS_TONE: Record<string, 'ok' | 'bad' | 'warn' | 'run' | 'muted'> = {
  finished: 'ok',
  failed: 'bad',
  error: 'bad',
  ignored: 'muted',
  running: 'run',
  new: 'warn',
  SUCCESS: 'ok',
  FAILURE: 'bad',
  REVERTED: 'bad',
  REVERTING: 'warn',
  RETRYING: 'warn',
  RUNNING: 'run',
  PENDING: 'muted',
  queued: 'muted',
  evacuating: 'run',
  confirmed: 'ok',
};

export const statusBadge = (status: string) => badge(status, STATUS_TONE[status] ?? 'muted');

/** API timestamps are naive UTC ("2026-12-07T08:01:02.000000", workflow details with a space). */
export function parseApiTime(s: string | null | undefined): Date | null {
  if (!s) return null;
  const d = new Date(`${s.replace(' ', 'T')}${/[zZ]|[+-]\d\d:\d\d$/.test(s) ? '' : 'Z'}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function time(s: string | null | undefined): Html {
  const d = parseApiTime(s);
  if (!d) return html`<span class="muted">—</span>`;
  const text = `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return html`<time datetime="${d.toISOString()}">${text}</time>`;
}

export function duration(ms: number | null): string {
  if (ms === null || ms < 0) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export const wrapTable = (table: Html) => html`<div class="table-wrap">${table}</div>`;

/** A section that live updates may replace (data-live: event type prefixes; data-subject: uuids it is about). */
export function liveSection(id: string, events: string, subject: string | null, heading: string, body: Html): Html {
  return html`<section class="panel" id="${id}" data-live="${events}" ${subject ? html` data-subject="${subject}"` : ''} aria-labelledby="${id}-h">
    <h2 id="${id}-h">${heading}</h2>
    ${body}
  </section>`;
}

/** What an API refusal or an absent extension looks like inside a page. */
export const note = (text: string) => html`<p class="note">${text}</p>`;
