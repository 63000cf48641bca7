// Frontdesk insights page for supervisors (and the knowledge part for editors).
// Plain DOM: every figure goes in through textContent / createElement, and the
// charts are SVG elements built here, so the strict CSP holds.
// A module script, served at /console/insights.js; the DOM helpers are the
// console's (widget/console/dom.js, served at /console/js/dom.js).
import { append, h, hiddenText } from './js/dom.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const DAY_MS = 86400000;

const REASONS = [
  ['low_confidence', "Bot wasn't sure"],
  ['patient_request', 'Asked for a person'],
  ['repeated_misses', 'Bot missed twice'],
  ['frustration', 'Frustrated'],
  ['emergency', 'Possible emergency'],
  ['booking_help', 'Booking help'],
];

const state = { data: null, from: '', to: '', seq: 0 };

// ------------------------------------------------------------------ helpers

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null) continue;
      if (k === 'text') el.textContent = String(v);
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

// "—" for a missing figure, with the reason as a tooltip and for screen readers.
function na() {
  return h('span', { class: 'na', title: 'not enough data' },
    h('span', { 'aria-hidden': 'true', text: '—' }),
    hiddenText('not enough data'));
}

function val(v, fmt) {
  if (!isNum(v)) return na();
  return document.createTextNode(fmt ? fmt(v) : String(v));
}

function int(n) {
  return Math.round(n).toLocaleString('en-US');
}

function pct(x) {
  const p = x * 100;
  if (p > 0 && p < 1) return '<1%';
  if (p < 100 && p > 99) return '>99%';
  return `${Math.round(p)}%`;
}

// 95 → "1 min 35 s"; 40 → "40 s"; 3900 → "1 h 5 min".
function dur(sec) {
  let t = Math.max(0, Math.round(sec));
  if (t < 60) return `${t} s`;
  if (t < 3600) {
    const m = Math.floor(t / 60);
    const r = t % 60;
    return r ? `${m} min ${r} s` : `${m} min`;
  }
  t = Math.round(t / 60);
  const hrs = Math.floor(t / 60);
  const m = t % 60;
  return m ? `${hrs} h ${m} min` : `${hrs} h`;
}

// ------------------------------------------------------------------ dates (UTC)

function ymd(d) {
  return d.toISOString().slice(0, 10);
}

function parseYmd(v) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v || '')) return null;
  const d = new Date(`${v}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || ymd(d) !== v ? null : d;
}

function todayUtc() {
  return parseYmd(ymd(new Date()));
}

function addDays(d, n) {
  return new Date(d.getTime() + n * DAY_MS);
}

// The form shows an inclusive "to"; the API takes an exclusive one.
function preset(kind) {
  const today = todayUtc();
  if (kind === 'month') {
    return [ymd(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1))), ymd(today)];
  }
  const n = Number(kind);
  return [ymd(addDays(today, -(n - 1))), ymd(today)];
}

function shortDate(v) {
  const d = parseYmd(v);
  if (!d) return v;
  return d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

function longDate(v) {
  const d = parseYmd(v);
  if (!d) return v;
  return d.toLocaleDateString('en-US', { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
}

function apiQuery(from, toIncl) {
  const toExcl = ymd(addDays(parseYmd(toIncl), 1));
  return `from=${encodeURIComponent(from)}&to=${encodeURIComponent(toExcl)}`;
}

// ------------------------------------------------------------------ page shell

const el = {};

function init() {
  el.form = document.getElementById('range');
  el.from = document.getElementById('from');
  el.to = document.getElementById('to');
  el.csv = document.getElementById('csv');
  el.error = document.getElementById('range-error');
  el.status = document.getElementById('status');
  el.content = document.getElementById('content');

  const params = new URLSearchParams(window.location.search);
  let from = params.get('from');
  let to = params.get('to');
  if (!parseYmd(from) || !parseYmd(to) || from > to) [from, to] = preset(30);
  el.from.value = from;
  el.to.value = to;
  el.to.max = ymd(todayUtc());
  el.from.max = ymd(todayUtc());

  el.form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
  });
  for (const b of el.form.querySelectorAll('[data-preset]')) {
    b.addEventListener('click', () => {
      const [f, t] = preset(b.getAttribute('data-preset'));
      el.from.value = f;
      el.to.value = t;
      apply();
    });
  }
  for (const input of [el.from, el.to]) {
    input.addEventListener('change', () => {
      if (validRange()) updateCsv();
    });
  }

  let timer = 0;
  let lastWidth = window.innerWidth;
  window.addEventListener('resize', () => {
    if (window.innerWidth === lastWidth) return;
    lastWidth = window.innerWidth;
    window.clearTimeout(timer);
    timer = window.setTimeout(drawCharts, 150);
  });

  apply(true);
}

function validRange() {
  const f = parseYmd(el.from.value);
  const t = parseYmd(el.to.value);
  let msg = '';
  if (!f) msg = 'Enter a start date.';
  else if (!t) msg = 'Enter an end date.';
  else if (f > t) msg = 'The start date must be on or before the end date.';
  el.error.textContent = msg;
  el.from.setAttribute('aria-invalid', String(!f || (t && f > t)));
  el.to.setAttribute('aria-invalid', String(!t));
  return !msg;
}

function updateCsv() {
  el.csv.href = `/api/insights?format=csv&${apiQuery(el.from.value, el.to.value)}`;
  el.csv.setAttribute('download', `insights-${el.from.value}-to-${el.to.value}.csv`);
}

function apply(first) {
  if (!validRange()) {
    (parseYmd(el.from.value) ? el.to : el.from).focus();
    return;
  }
  state.from = el.from.value;
  state.to = el.to.value;
  updateCsv();
  if (!first) {
    const url = `/console/insights?from=${encodeURIComponent(state.from)}&to=${encodeURIComponent(state.to)}`;
    window.history.replaceState(null, '', url);
  }
  load();
}

async function load() {
  const seq = ++state.seq;
  el.status.textContent = 'Loading insights…';
  el.status.className = 'status';
  document.getElementById('main').setAttribute('aria-busy', 'true');
  let res;
  let data = null;
  try {
    res = await fetch(`/api/insights?${apiQuery(state.from, state.to)}`, {
      credentials: 'same-origin', headers: { Accept: 'application/json' },
    });
    if ((res.headers.get('Content-Type') || '').includes('json')) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
  } catch (e) {
    res = null;
  }
  if (seq !== state.seq) return;
  document.getElementById('main').removeAttribute('aria-busy');
  if (!res) return fail('The server could not be reached. Check the connection and try again.');
  if (res.status === 401) {
    return fail('You are not signed in. ', h('a', { href: '/console', text: 'Sign in on the agent console' }),
      ', then come back to this page.');
  }
  if (res.status === 403) {
    return fail('Your account cannot see insights. Supervisors and admins see all figures and editors see the knowledge figures; ask an admin if you need access. ',
      h('a', { href: '/console', text: 'Back to the agent console' }));
  }
  if (!res.ok || !data || typeof data !== 'object') {
    const msg = data && typeof data.message === 'string' && data.message ? data.message : `The insights could not be loaded (error ${res.status}).`;
    return fail(msg, ' ', retryButton());
  }
  state.data = data;
  render(data);
}

function retryButton() {
  const b = h('button', { type: 'button', class: 'btn btn-quiet btn-small', text: 'Try again' });
  b.addEventListener('click', load);
  return b;
}

function fail(...parts) {
  state.data = null;
  el.content.replaceChildren();
  el.status.replaceChildren(...parts.map((p) => (p instanceof Node ? p : document.createTextNode(p))));
  el.status.className = 'status status-error';
}

// ------------------------------------------------------------------ render

function section(id, title, ...children) {
  return h('section', { class: 'ins-section', 'aria-labelledby': id },
    h('h2', { id, text: title }), ...children);
}

function card(title, main, ...extra) {
  const id = `card-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('article', { class: 'stat', 'aria-labelledby': id },
    h('h3', { id, class: 'stat-title', text: title }),
    h('p', { class: 'stat-value' }, main),
    ...extra);
}

function sub(...parts) {
  return h('p', { class: 'stat-sub' }, ...parts);
}

function pair(label, value) {
  return h('div', { class: 'pair' }, h('dt', { text: label }), h('dd', null, value));
}

function table(caption, headers, rows, opts) {
  const o = opts || {};
  const t = h('table', { class: `data${o.class ? ` ${o.class}` : ''}` });
  t.appendChild(h('caption', { class: o.hideCaption ? 'visually-hidden' : null, text: caption }));
  t.appendChild(h('thead', null, h('tr', null, headers.map((x, i) =>
    h('th', { scope: 'col', class: i > 0 && !(o.textCols || []).includes(i) ? 'num' : null, text: x })))));
  const body = h('tbody');
  for (const r of rows) {
    body.appendChild(h('tr', null, r.map((c, i) => {
      const cls = i > 0 && !(o.textCols || []).includes(i) ? 'num' : null;
      return i === 0 ? h('th', { scope: 'row', class: cls }, c) : h('td', { class: cls }, c);
    })));
  }
  t.appendChild(body);
  // A wide table scrolls on its own on narrow screens; keyboard users can
  // focus it to scroll it.
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: '0' }, t);
}

function render(d) {
  const range = `${longDate(state.from)} to ${longDate(state.to)}`;
  const full = 'conversations' in d || 'daily' in d;
  const parts = [];
  if (full) {
    parts.push(summary(d));
    parts.push(trends(d));
    parts.push(agents(d));
    parts.push(channels(d));
  }
  parts.push(knowledge(d, full));
  el.csv.hidden = !full;
  el.content.replaceChildren(...parts);
  el.status.className = 'status';
  el.status.textContent = full
    ? `Showing ${range}.`
    : `Showing ${range}. Your account sees the knowledge figures only.`;
  drawCharts();
}

const CHANNELS = { web: 'Website chat', sms: 'Text messages (SMS)' };
const MESSAGE_KINDS = {
  booking_confirmed: 'Booking confirmations',
  booking_moved: 'Moved appointments',
  booking_cancelled: 'Cancellations',
  reminder: 'Reminders',
  chat_reply: 'Chat replies by text',
  chat_notice: 'Chat notices by text',
};

// Conversations per channel, and what became of the messages we sent.
function channels(d) {
  const ch = d.channels || {};
  const chRows = Object.keys(ch).map((key) => {
    const c = ch[key] || {};
    return [CHANNELS[key] || key, val(c.conversations, int), val(c.escalated, int), val(c.self_service_rate, pct)];
  });
  const ms = d.messages || {};
  const msRows = Object.keys(ms).map((key) => {
    const m = ms[key] || {};
    return [MESSAGE_KINDS[key] || key.replace(/_/g, ' '), val(m.sent, int), val(m.failed, int), val(m.opted_out, int), val(m.pending, int)];
  });
  return section('channels-heading', 'Channels and messages to patients',
    chRows.length
      ? table('Conversations per channel', ['Channel', 'Conversations', 'Handed to a person', 'Self-service'], chRows)
      : h('p', { class: 'muted', text: 'No conversations in this range.' }),
    msRows.length
      ? table('Messages to patients', ['Kind', 'Sent', 'Failed', 'Of those, opted out', 'Waiting'], msRows)
      : h('p', { class: 'muted', text: 'No messages to patients in this range.' }));
}

function summary(d) {
  const q = d.queue || {};
  const esc = d.escalations || {};
  const sat = d.satisfaction || {};
  const ap = d.appointments || {};
  const wait = q.wait_s || {};
  const fr = q.first_response_s || {};
  const hd = q.handle_s || {};

  const byReason = esc.by_reason || {};
  const known = new Set(REASONS.map((r) => r[0]));
  const reasonRows = REASONS.map(([key, label]) => {
    const r = byReason[key] || {};
    return [label, val(isNum(r.count) ? r.count : 0, int), isNum(r.rate) ? val(r.rate, pct) : (isNum(r.count) && r.count > 0 ? na() : document.createTextNode('0%'))];
  });
  for (const key of Object.keys(byReason)) {
    if (known.has(key)) continue;
    const r = byReason[key] || {};
    reasonRows.push([key, val(r.count, int), val(r.rate, pct)]);
  }

  const dist = Array.isArray(sat.distribution) ? sat.distribution : [];
  const distMax = Math.max(1, ...dist.filter(isNum));
  const distRows = [5, 4, 3, 2, 1].map((score) => {
    const n = dist[score - 1];
    const bar = h('span', { class: 'dist-bar', 'aria-hidden': 'true' });
    bar.style.width = `${isNum(n) ? Math.round((n / distMax) * 100) : 0}%`;
    return [`${score} ${score === 1 ? 'star' : 'stars'}`, h('span', { class: 'dist-cell' }, h('span', { class: 'dist-track' }, bar), h('span', { class: 'dist-n' }, val(n, int)))];
  });

  const cards = h('div', { class: 'cards' },
    card('Conversations', val(d.conversations, int),
      sub('Chats where the patient wrote at least once.')),
    card('Self-service rate', val(d.self_service_rate, pct),
      sub('Never handed to a person.')),
    card('First-contact resolution', val(d.first_contact_resolution, pct),
      sub('Self-served, and no new chat within 7 days.')),
    card('Escalations', val(esc.total, int),
      sub('Went to callbacks (nobody online): ', val(esc.offline, int)),
      table('Escalations by reason', ['Reason', 'Chats', 'Share'], reasonRows, { class: 'compact' })),
    card('Queue waits', h('span', null, 'p50 ', val(wait.p50, dur)),
      h('dl', { class: 'pairs' },
        pair('p90', val(wait.p90, dur)),
        pair('Queued', val(q.queued, int)),
        pair('Claimed', val(q.claimed, int)))),
    card('Abandonment', val(q.abandoned_rate, pct),
      sub('Queued chats that ended before an agent claimed them.')),
    card('First response', h('span', null, 'p50 ', val(fr.p50, dur)),
      h('dl', { class: 'pairs' }, pair('p90', val(fr.p90, dur))),
      sub('From claim to the first agent message.')),
    card('Handle time', h('span', null, 'p50 ', val(hd.p50, dur)),
      h('dl', { class: 'pairs' }, pair('p90', val(hd.p90, dur))),
      sub('From claim to resolve.')),
    card('CSAT', val(sat.csat, pct),
      sub('Ratings of 4 or 5, out of ', val(sat.ratings, int), ' ratings.'),
      table('Ratings by score', ['Score', 'Ratings'], distRows, { class: 'compact dist' }),
      sub('Answer votes: ', val(sat.helpful, int), ' helpful, ', val(sat.unhelpful, int), ' not helpful.')),
    card('Appointments', val(ap.booked, int),
      h('dl', { class: 'pairs' },
        pair('Booked in chat', val(ap.booked, int)),
        pair('Cancelled', val(ap.cancelled, int)),
        pair('Rescheduled', val(ap.rescheduled, int)))));
  return section('h-summary', 'Summary', cards);
}

// ------------------------------------------------------------------ charts

// The API may leave out days without conversations; the charts and the table
// show every day of the chosen range, with zeros for the quiet ones.
function allDays(d) {
  const given = Array.isArray(d.daily) ? d.daily : [];
  const from = parseYmd(state.from);
  const to = parseYmd(state.to);
  if (!from || !to || (to - from) / DAY_MS > 400) return given;
  const byDate = new Map(given.map((x) => [x.date, x]));
  const out = [];
  for (let t = from; t <= to; t = addDays(t, 1)) {
    const key = ymd(t);
    out.push(byDate.get(key) || { date: key, conversations: 0, self_served: 0, escalated: 0, ratings: 0, csat: null });
  }
  return out;
}

function trends(d) {
  const days = allDays(d);
  const rows = days.map((x) => [
    longDate(x.date),
    val(x.conversations, int),
    val(x.self_served, int),
    isNum(x.conversations) && x.conversations > 0 && isNum(x.self_served) ? val(x.self_served / x.conversations, pct) : na(),
    val(x.escalated, int),
  ]);
  const body = days.length === 0
    ? [h('p', { class: 'empty', text: 'No days in this range.' })]
    : [
      h('div', { class: 'charts' },
        h('figure', { class: 'chart' },
          h('figcaption', { id: 'cap-conv', text: 'Conversations per day' }),
          h('div', { class: 'chart-box', id: 'chart-conv' })),
        h('figure', { class: 'chart' },
          h('figcaption', { id: 'cap-self', text: 'Self-served share per day' }),
          h('div', { class: 'chart-box', id: 'chart-self' }))),
      h('details', { class: 'chart-table' },
        h('summary', { text: 'Show the daily numbers as a table' }),
        table('Daily figures', ['Day', 'Conversations', 'Self-served', 'Self-served share', 'Escalated'], rows)),
    ];
  return section('h-trends', 'Daily trends', ...body);
}

function niceMax(v) {
  if (v <= 4) return 4;
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * mag >= v) return m * mag;
  }
  return 10 * mag;
}

function chartFrame(box, days, yTicks, yFmt, title, desc) {
  const width = Math.max(280, Math.floor(box.clientWidth || 600));
  const height = 220;
  const m = { top: 12, right: 12, bottom: 34, left: 46 };
  const w = width - m.left - m.right;
  const ih = height - m.top - m.bottom;
  const n = days.length;
  const id = box.id;
  const svg = s('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-labelledby': `${id}-t ${id}-d`, class: 'chart-svg', focusable: 'false',
  },
  s('title', { id: `${id}-t`, text: title }),
  s('desc', { id: `${id}-d`, text: desc }));
  const g = s('g', { transform: `translate(${m.left},${m.top})` });
  svg.appendChild(g);
  // Horizontal grid and y labels.
  for (const [t, label] of yTicks) {
    const y = ih - t * ih;
    g.appendChild(s('line', { x1: 0, x2: w, y1: y, y2: y, class: t === 0 ? 'axis' : 'grid' }));
    g.appendChild(s('text', { x: -6, y: y + 4, 'text-anchor': 'end', class: 'tick', text: yFmt(label) }));
  }
  // X labels: as many as fit, always the first and the last day.
  const band = w / n;
  const maxLabels = Math.max(2, Math.floor(w / 64));
  const step = Math.max(1, Math.ceil(n / maxLabels));
  for (let i = 0; i < n; i += 1) {
    const last = i === n - 1;
    if (i % step !== 0 && !last) continue;
    if (!last && n - 1 - i < step && i !== 0) continue;
    const x = band * i + band / 2;
    const anchor = n === 1 ? 'middle' : i === 0 ? 'start' : last ? 'end' : 'middle';
    const tx = anchor === 'start' ? Math.max(0, x - band / 2) : anchor === 'end' ? Math.min(w, x + band / 2) : x;
    g.appendChild(s('line', { x1: x, x2: x, y1: ih, y2: ih + 4, class: 'axis' }));
    g.appendChild(s('text', { x: tx, y: ih + 18, 'text-anchor': anchor, class: 'tick', text: shortDate(days[i].date) }));
  }
  return { svg, g, w, ih, band };
}

function drawCharts() {
  const d = state.data;
  const conv = document.getElementById('chart-conv');
  const self = document.getElementById('chart-self');
  if (!d || !conv || !self) return;
  const days = allDays(d);
  if (!days.length) return;

  // Conversations per day: bars.
  const counts = days.map((x) => (isNum(x.conversations) ? x.conversations : 0));
  const total = counts.reduce((a, b) => a + b, 0);
  const peak = Math.max(...counts);
  const peakDay = days[counts.indexOf(peak)];
  const max = niceMax(Math.max(1, peak));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => [t, t * max]).filter(([, v]) => Number.isInteger(v));
  const c = chartFrame(conv, days, ticks, int, 'Conversations per day',
    `${int(total)} conversations over ${days.length} days, from ${longDate(days[0].date)} to ${longDate(days[days.length - 1].date)}; the busiest day was ${longDate(peakDay.date)} with ${int(peak)}. The table below the charts lists every day.`);
  const barW = Math.max(1, Math.min(40, c.band * 0.7));
  days.forEach((x, i) => {
    const v = counts[i];
    const bh = (v / max) * c.ih;
    const rect = s('rect', {
      x: c.band * i + (c.band - barW) / 2, y: c.ih - bh, width: barW, height: Math.max(0, bh), class: 'bar',
    }, s('title', { text: `${longDate(x.date)}: ${int(v)} conversations` }));
    c.g.appendChild(rect);
  });
  conv.replaceChildren(c.svg);

  // Self-served share: a line over the days that had conversations.
  const shares = days.map((x) => (isNum(x.conversations) && x.conversations > 0 && isNum(x.self_served) ? x.self_served / x.conversations : null));
  const known = shares.filter((v) => v !== null);
  const avg = isNum(d.self_service_rate) ? d.self_service_rate : null;
  const p = chartFrame(self, days, [[0, 0], [0.25, 0.25], [0.5, 0.5], [0.75, 0.75], [1, 1]], pct, 'Self-served share per day',
    known.length
      ? `Share of each day's conversations that never went to a person, on ${known.length} of ${days.length} days with conversations; lowest ${pct(Math.min(...known))}, highest ${pct(Math.max(...known))}${avg !== null ? `, ${pct(avg)} over the whole range` : ''}. The table below the charts lists every day.`
      : 'No day in this range had conversations, so there is no share to show.');
  let path = '';
  let pen = false;
  shares.forEach((v, i) => {
    if (v === null) { pen = false; return; }
    const x = p.band * i + p.band / 2;
    const y = p.ih - v * p.ih;
    path += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  });
  if (avg !== null) {
    const y = p.ih - avg * p.ih;
    p.g.appendChild(s('line', { x1: 0, x2: p.w, y1: y, y2: y, class: 'avg' }));
  }
  if (path) p.g.appendChild(s('path', { d: path, class: 'line' }));
  shares.forEach((v, i) => {
    if (v === null) return;
    p.g.appendChild(s('circle', {
      cx: p.band * i + p.band / 2, cy: p.ih - v * p.ih, r: days.length > 45 ? 2 : 3.5, class: 'dot',
    }, s('title', { text: `${longDate(days[i].date)}: ${pct(v)} self-served` })));
  });
  self.replaceChildren(p.svg);
  if (avg !== null) {
    self.appendChild(h('p', { class: 'legend small' },
      h('span', { class: 'key key-line', 'aria-hidden': 'true' }), 'Daily share ',
      h('span', { class: 'key key-avg', 'aria-hidden': 'true' }), `Whole range (${pct(avg)})`));
  }
}

// ------------------------------------------------------------------ tables

function agents(d) {
  const list = (d.queue && Array.isArray(d.queue.per_agent)) ? d.queue.per_agent : [];
  if (!list.length) {
    return section('h-agents', 'Agents', h('p', { class: 'empty', text: 'No chats were claimed by an agent in this range.' }));
  }
  const rows = list.map((a) => [
    String(a.agent || ''),
    val(a.chats, int),
    val(a.wait_s && a.wait_s.p50, dur),
    val(a.first_response_s && a.first_response_s.p50, dur),
    val(a.handle_s && a.handle_s.p50, dur),
  ]);
  return section('h-agents', 'Agents',
    table('Chats handled per agent, with median (p50) times', ['Agent', 'Chats', 'Wait p50', 'First response p50', 'Handle p50'], rows));
}

function knowledge(d, full) {
  const k = d.knowledge || {};
  const answers = Array.isArray(k.answers) ? k.answers : [];
  const groups = Array.isArray(k.unanswered) ? k.unanswered : [];
  const answerPart = answers.length
    ? table('Answers served per article', ['Article', 'Served', 'Helpful', 'Not helpful'],
      answers.map((a) => [String(a.article || ''), val(a.served, int), val(a.helpful, int), val(a.unhelpful, int)]))
    : h('p', { class: 'empty', text: 'The bot served no article answers in this range.' });

  let groupPart;
  if (groups.length) {
    groupPart = h('ol', { class: 'groups' }, groups.map((g) => {
      const ex = Array.isArray(g.examples) ? g.examples.slice(0, 3) : [];
      return h('li', { class: 'group' },
        h('p', { class: 'group-head' },
          h('span', { class: 'group-label', text: String(g.label || '(no label)') }),
          h('span', { class: 'group-count' }, val(g.count, int), isNum(g.count) ? (g.count === 1 ? ' question' : ' questions') : '')),
        ex.length ? h('ul', { class: 'examples', 'aria-label': `Examples for ${String(g.label || 'this group')}` },
          ex.map((e) => h('li', { text: String(e) }))) : null);
    }));
  } else {
    groupPart = h('p', { class: 'empty', text: 'No unanswered questions in this range.' });
  }

  return section('h-knowledge', 'Knowledge',
    full ? null : h('p', { class: 'muted', text: 'Editors see how the knowledge base performs. The other figures are for supervisors and admins.' }),
    h('div', { class: 'knowledge' },
      h('div', { class: 'k-part' }, h('h3', { text: 'Answers per article' }), answerPart),
      h('div', { class: 'k-part' },
        h('h3', { text: 'Questions the bot could not answer' }),
        h('p', { class: 'small muted', text: 'Grouped by shared words, largest first; names, dates, ages, contact details and health words are removed.' }),
        boundNote(k),
        groupPart)));
}

/** Says how many questions were grouped when the range had more. */
function boundNote(k) {
  const total = isNum(k.unanswered_total) ? k.unanswered_total : null;
  const grouped = isNum(k.unanswered_grouped) ? k.unanswered_grouped : null;
  const limit = isNum(k.unanswered_limit) ? k.unanswered_limit : null;
  if (total === null || grouped === null || total <= grouped) {
    return limit === null ? null
      : h('p', { class: 'small muted', text: `At most the newest ${limit.toLocaleString()} questions of a range are grouped.` });
  }
  return h('p', { class: 'small muted bound', role: 'note',
    text: `Grouped from the newest ${grouped.toLocaleString()} of ${total.toLocaleString()} questions in this range. Pick a shorter range to see older ones.` });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
