// The dashboard's only script, bundled as a string and served from /dashboard/static/app.js (the pages allow no
// inline script: Content-Security-Policy script-src 'self'). It does two things:
//   - live updates: one EventSource on /dashboard/events (the API's event stream, passed through with the
//     session's token); an event re-fetches only the server-rendered fragments that said they depend on it
//     (data-live="<event type prefixes>", data-subject="<uuid>" to narrow to one notification or host), never on
//     a timer. EventSource reconnects by itself after a controller restart; meanwhile a banner says so, and once
//     back every fragment is fetched again (events may have been missed).
//   - a confirmation before destructive buttons (data-confirm).
// Pages work without it (plain forms and links); only the live part needs it.

/** Event types of the stream (common contract: Masakari's versioned notification names, then ours). */
export const LIVE_EVENT_TYPES = [
  ...['segment', 'host'].flatMap((r) => ['create', 'update', 'delete'].flatMap((a) => ['start', 'end', 'error'].map((p) => `${r}.${a}.${p}`))),
  'notification.create.end',
  'notification.process.start',
  'notification.process.end',
  'notification.process.error',
  'recovery.task.start',
  'recovery.task.end',
  'recovery.instance.state',
  'protection.change',
];

export const CLIENT_JS = `'use strict';
(function () {
  var TYPES = ${JSON.stringify(LIVE_EVENT_TYPES)};
  var banner = document.getElementById('live-banner');
  function say(text) {
    if (!banner) return;
    if (text) { banner.textContent = text; banner.hidden = false; } else { banner.hidden = true; banner.textContent = ''; }
  }
  var timers = new Map();
  function refresh(region) {
    if (timers.has(region.id)) return;
    // Several events in a burst (a recovery's tasks) cost one fetch.
    timers.set(region.id, setTimeout(function () {
      timers.delete(region.id);
      var url = location.pathname + '?fragment=' + encodeURIComponent(region.id);
      fetch(url, { credentials: 'same-origin', headers: { 'X-Dashboard-Fragment': '1' } }).then(function (res) {
        if (res.status === 401) { location.reload(); return; }
        if (!res.ok) return;
        return res.text().then(function (text) {
          var current = document.getElementById(region.id);
          if (!current) return;
          var tpl = document.createElement('template');
          tpl.innerHTML = text.trim();
          var next = tpl.content.firstElementChild;
          if (next && next.id === region.id) current.replaceWith(next);
        });
      }).catch(function () {});
    }, 250));
  }
  function regions() { return Array.prototype.slice.call(document.querySelectorAll('[data-live]')); }
  function onEvent(e) {
    var data = {};
    try { data = JSON.parse(e.data); } catch (err) { return; }
    var type = data.type || e.type;
    var values = [];
    var payload = data.payload || {};
    Object.keys(payload).forEach(function (k) { values.push(String(payload[k])); });
    regions().forEach(function (r) {
      var prefixes = r.getAttribute('data-live').split(' ');
      if (!prefixes.some(function (p) { return p && type.indexOf(p) === 0; })) return;
      var subject = r.getAttribute('data-subject');
      if (subject && subject.split(' ').every(function (s) { return values.indexOf(s) < 0; })) return;
      refresh(r);
    });
    document.body.setAttribute('data-last-event', type);
  }
  var url = document.body.getAttribute('data-events');
  if (url && window.EventSource) {
    var lost = false;
    var source = new EventSource(url);
    TYPES.forEach(function (t) { source.addEventListener(t, onEvent); });
    source.addEventListener('message', onEvent);
    source.onopen = function () {
      document.body.setAttribute('data-live-state', 'open');
      say('');
      if (lost) regions().forEach(refresh);
      lost = false;
    };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        document.body.setAttribute('data-live-state', 'unavailable');
        say('Live updates are not available on this controller (no event stream): reload the page to see changes.');
      } else {
        lost = true;
        document.body.setAttribute('data-live-state', 'reconnecting');
        say('Connection to the controller lost: reconnecting\\u2026 (the page updates again once it is back)');
      }
    };
  }
  document.addEventListener('submit', function (e) {
    var form = e.target;
    var button = e.submitter || form.querySelector('button');
    var question = (button && button.getAttribute('data-confirm')) || form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) e.preventDefault();
  });
})();
`;
