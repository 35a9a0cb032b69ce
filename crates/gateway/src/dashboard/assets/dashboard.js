// keyward dashboard: live updates over server-sent events, and countdowns.
// The server renders (and escapes) all HTML; this only swaps it in.
'use strict';
(function () {
  const live = document.getElementById('live');
  if (!live) return;
  const conn = document.getElementById('conn');
  let held = null;

  function typing() {
    const a = document.activeElement;
    return a && live.contains(a) && a.tagName === 'INPUT' && a.value !== '';
  }

  function apply(html) {
    // Do not wipe a passphrase being typed: apply once the field is left.
    if (typing()) { held = html; return; }
    held = null;
    live.innerHTML = html;
    localize();
    tick();
  }

  live.addEventListener('focusout', function () {
    setTimeout(function () { if (held !== null && !typing()) apply(held); }, 0);
  });

  function left(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s >= 3600) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    if (s >= 60) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    return s + 's';
  }

  function tick() {
    const now = Date.now();
    for (const el of live.querySelectorAll('time[data-deadline]')) {
      const at = Number(el.dataset.deadline);
      const clock = new Date(at).toLocaleTimeString();
      el.textContent = at > now ? 'in ' + left(at - now) + ' (' + clock + ')' : clock;
    }
  }

  // Server times are UTC; show them in the browser's time zone.
  function localize() {
    for (const el of live.querySelectorAll('time[data-local]')) {
      const t = new Date(el.getAttribute('datetime'));
      if (!isNaN(t)) el.textContent = t.toLocaleTimeString();
    }
  }

  function state(on) {
    if (!conn) return;
    conn.textContent = on ? 'live' : 'reconnecting…';
    conn.className = 'conn ' + (on ? 'on' : 'off');
  }

  // The page says which rendering it shows: the stream sends only newer ones.
  const events = new EventSource('/events?h=' + encodeURIComponent(live.dataset.hash || ''));
  events.addEventListener('open', function () { state(true); });
  events.addEventListener('state', function (e) { state(true); apply(e.data); });
  events.addEventListener('expired', function () {
    events.close();
    location.assign('/login?m=expired');
  });
  events.addEventListener('error', function () {
    // A refused stream (the session ended) is closed for good; a dropped
    // one reconnects by itself.
    if (events.readyState === EventSource.CLOSED) location.assign('/login?m=expired');
    else state(false);
  });
  localize();
  tick();
  setInterval(tick, 1000);
})();
