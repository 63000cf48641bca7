/*
 * Frontdesk agent console.
 *
 * Served at /console/console.js and loaded by /console. Plain ES2020, no
 * build step, no dependencies, no external hosts. Everything from the server
 * or from a patient is shown with textContent; nothing here uses innerHTML.
 *
 * Talks to the HTTP API under /api (cookie session, same origin) and to the
 * WebSocket /console/ws as described in docs/protocol.md, "Agent console
 * protocol" and "Console HTTP API".
 *
 * Globals: this file defines exactly one, `window.FrontdeskConsole`, for
 * debugging and browser tests only (not an API for integrations):
 *   FrontdeskConsole.version         console script version
 *   FrontdeskConsole.snapshot()      plain-object copy of the current state:
 *                                    {screen, me, status, connection, view,
 *                                     selected, queue, chats}
 *   FrontdeskConsole.reconnect()     drop the socket and reconnect now
 *
 * Stable data-testid hooks for browser tests: login-form, login-name,
 * login-password, login-submit, login-error, agent-name, status-online,
 * status-away, sign-out, connection-state, nav-chats, nav-callbacks,
 * nav-history, queue-list, queue-item, claim-button, chat-tab, chat-pane,
 * context, message-list, typing, composer, send-button, insert-answer-button,
 * note-button, transfer-button, return-button, resolve-button,
 * callbacks-list, callback-item, callback-done, history-list, history-item,
 * history-transcript, toast, editor-message.
 *
 * Appointments section: nav-appointments, appointments-view,
 * appointments-list (tbody), appointment-item (row, data-code),
 * appointment-cancel, appointment-cancel-dialog, appointment-cancel-confirm,
 * appointments-refresh, find-code, find-submit, find-result, found-code,
 * found-status, book-type, book-provider, book-from, slots-find, slots-later,
 * slot-status, slot-list, slot-button (data-slot), slot-chosen, slot-error,
 * patient-name, patient-dob, patient-phone, patient-email, contact-phone,
 * contact-text, contact-email, book-submit, book-error, book-result,
 * confirmation-code, calendar-link.
 */
(() => {
  'use strict';

  const VERSION = '1.0.0';
  const TYPING_EVERY_MS = 3000; // send `typing` at most this often
  const PATIENT_TYPING_SHOWN_MS = 6000; // how long "Patient is typing…" stays
  const CALLBACK_REFRESH_MS = 30000;
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const CONFIRM_AFTER_HELLO_MS = 5000; // chats not re-sent after a reconnect by then are gone
  const MAX_TEXT = 2000; // graphemes, as the server counts
  const MAX_CLOSED_KEPT = 30;
  const STATUS_KEY = 'frontdesk-console-status'; // this tab's chosen Online/Away, kept over reloads

  const REASONS = {
    low_confidence: "Bot wasn't sure",
    patient_request: 'Asked for a person',
    repeated_misses: 'Bot missed twice',
    frustration: 'Frustrated',
    emergency: 'URGENT: possible emergency',
    booking_help: 'Booking help',
  };
  const LANGS = { en: 'English', es: 'Spanish (Español)' };
  const WHY = {
    resolved: 'You resolved this chat.',
    returned_to_bot: 'You returned this chat to the bot.',
    transferred: 'This chat was transferred to another agent.',
    patient_ended: 'The patient ended the chat.',
    lost: 'This chat is no longer assigned to you (it may have ended while the console was disconnected).',
  };
  const DISPOSITIONS = [
    { value: 'answered', label: 'Answered' },
    { value: 'booked', label: 'Booked' },
    { value: 'callback', label: 'Callback needed' },
    { value: 'no_response', label: 'No response' },
    { value: 'other', label: 'Other' },
  ];
  const DISPOSITION_LABELS = {
    answered: 'Answered', booked: 'Booked', callback: 'Callback needed', no_response: 'No response',
  };
  const CHANNELS = { phone: 'Phone', sms: 'Text message', text: 'Text message', email: 'Email' };
  const ROLES = { agent: 'Agent', supervisor: 'Supervisor', admin: 'Admin', editor: 'Editor' };
  const FROM_LABELS = { patient: 'Patient', bot: 'Bot', agent: 'Agent', system: 'System' };

  // ---------------------------------------------------------------- state

  const state = {
    screen: 'loading', // loading | signin | console | editor
    me: null, // {name, role}
    status: 'online',
    connection: 'offline', // connecting | online | waiting | offline
    view: 'chats', // chats | callbacks | history | appointments
    queue: [], // [{conversation, position, reason, priority, waiting_s, lang, preview, t0}]
    chats: new Map(), // conversation -> chat
    selected: null,
    claiming: new Set(),
    seenQueue: new Set(),
    callbacks: [],
    showDoneCallbacks: false,
  };

  let ws = null;
  let wsGeneration = 0;
  let backoffAttempt = 0;
  let reconnectTimer = null;
  let reconnectAt = 0;
  let confirmTimer = null;
  let signingOut = false;
  let stash = null; // unsent messages kept over an unexpected sign-out
  const intervals = [];
  const ui = {}; // element references of the current screen

  // ---------------------------------------------------------------- DOM helpers

  /** Builds an element. attrs: class, text, testid, on{Event}, hidden,
   * disabled, value, checked, and any other attribute. Never sets HTML. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = String(v);
        else if (k === 'testid') el.setAttribute('data-testid', v);
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
        else if (k === 'hidden' || k === 'disabled' || k === 'checked' || k === 'required') el[k] = Boolean(v);
        else if (k === 'value') el.value = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(el, c);
      else if (c instanceof Node) el.appendChild(c);
      else el.appendChild(document.createTextNode(String(c)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  /** A small count badge: visible number plus hidden words for screen readers. */
  function setCount(el, n, words) {
    el.hidden = !n;
    clear(el);
    if (n) append(el, [hiddenText(', '), String(n), hiddenText(` ${words}`)]);
  }

  function hiddenText(text) {
    return h('span', { class: 'visually-hidden', text });
  }

  let idCounter = 0;
  function uid(prefix) {
    idCounter += 1;
    return `${prefix}-${idCounter}`;
  }

  // ---------------------------------------------------------------- formatting

  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
  const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
    month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit',
  });

  function parseDate(s) {
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? null : d;
  }

  function fmtTime(s) {
    const d = parseDate(s);
    if (!d) return '';
    const today = new Date();
    return d.toDateString() === today.toDateString() ? timeFmt.format(d) : dateTimeFmt.format(d);
  }

  function fmtDateTime(s) {
    const d = parseDate(s);
    return d ? dateTimeFmt.format(d) : '';
  }

  function timeEl(s) {
    const d = parseDate(s);
    if (!d) return null;
    return h('time', { datetime: d.toISOString(), title: d.toLocaleString(), text: fmtTime(s) });
  }

  function fmtDuration(totalSeconds) {
    const s = Math.max(0, Math.floor(totalSeconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
    return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  }

  function reasonLabel(reason) {
    return REASONS[reason] || (reason ? String(reason).replace(/_/g, ' ') : 'Hand-over');
  }

  function dispositionLabel(d) {
    if (!d) return '';
    return DISPOSITION_LABELS[d] || d;
  }

  function langBadge(lang) {
    const code = String(lang || '?').toUpperCase();
    return h('span', { class: 'badge badge-lang', title: LANGS[lang] || code },
      hiddenText(`Language: ${LANGS[lang] || code}. `),
      h('span', { 'aria-hidden': 'true', text: code }));
  }

  function shortId(conversation) {
    const s = String(conversation || '');
    return s.length > 6 ? s.slice(-6) : s;
  }

  function chatTitle(chat) {
    return `Chat ${shortId(chat.id)}`;
  }

  function graphemeCount(text) {
    if (typeof Intl !== 'undefined' && Intl.Segmenter) {
      let n = 0;
      for (const _ of new Intl.Segmenter().segment(text)) n += 1; // eslint-disable-line no-unused-vars
      return n;
    }
    return Array.from(text).length;
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    // Fallback for non-secure contexts (plain http on a LAN name).
    const b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // ---------------------------------------------------------------- announcements and toasts

  function announce(text) {
    const region = document.getElementById('announcer');
    if (!region) return;
    const p = h('p', { text });
    // Appending (rather than replacing) lets several announcements queue up.
    window.setTimeout(() => region.appendChild(p), 60);
    window.setTimeout(() => p.remove(), 15000);
  }

  function toast(text, kind) {
    if (!ui.toasts) return;
    const close = h('button', { type: 'button', class: 'toast-close' }, h('span', { 'aria-hidden': 'true', text: '×' }), hiddenText('Dismiss'));
    const t = h('div', { class: `toast${kind ? ` toast-${kind}` : ''}`, testid: 'toast' },
      h('p', { text }), close);
    const remove = () => t.remove();
    close.addEventListener('click', remove);
    ui.toasts.appendChild(t);
    while (ui.toasts.childElementCount > 3) ui.toasts.firstElementChild.remove();
    window.setTimeout(remove, 6000);
  }

  // ---------------------------------------------------------------- HTTP

  async function api(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      return { ok: false, status: 0, data: null, headers: null, network: true };
    }
    let data = null;
    const type = res.headers.get('Content-Type') || '';
    if (res.status !== 204 && type.includes('json')) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
    if (res.status === 401 && path !== '/api/login' && path !== '/api/me' && state.screen !== 'signin') {
      sessionEnded();
    }
    return { ok: res.ok, status: res.status, data, headers: res.headers };
  }

  function apiMessage(r, fallback) {
    if (r.network) return 'The server could not be reached. Check the connection and try again.';
    if (r.data && typeof r.data.message === 'string' && r.data.message) return r.data.message;
    return fallback;
  }

  // ---------------------------------------------------------------- screens

  function root() {
    return document.getElementById('app');
  }

  function setScreen(name) {
    state.screen = name;
    root().setAttribute('data-screen', name);
  }

  async function boot() {
    const r = await api('GET', '/api/me');
    if (r.ok && r.data && r.data.name) {
      enterConsole(r.data);
    } else if (r.network) {
      showBootError();
    } else {
      showSignIn();
    }
  }

  function showBootError() {
    setScreen('signin');
    const app = root();
    clear(app);
    const retry = h('button', { type: 'button', class: 'btn btn-primary', text: 'Try again', onclick: () => boot() });
    app.appendChild(h('main', { id: 'main', class: 'signin', tabindex: '-1' },
      h('div', { class: 'card' },
        h('h1', { text: 'Agent console' }),
        h('p', { class: 'error-text', role: 'alert', text: 'The server could not be reached.' }),
        retry)));
  }

  function showSignIn(notice) {
    teardown();
    setScreen('signin');
    const app = root();
    clear(app);
    const errorEl = h('p', { class: 'form-error', role: 'alert', testid: 'login-error' });
    const name = h('input', {
      id: 'login-name', name: 'name', type: 'text', autocomplete: 'username', required: true,
      autocapitalize: 'none', spellcheck: 'false', testid: 'login-name',
    });
    const password = h('input', {
      id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password',
      required: true, testid: 'login-password',
    });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'login-submit', text: 'Sign in' });
    let lockTimer = null;

    const form = h('form', { class: 'signin-form', testid: 'login-form', novalidate: true },
      h('div', { class: 'field' }, h('label', { for: 'login-name', text: 'Name' }), name),
      h('div', { class: 'field' }, h('label', { for: 'login-password', text: 'Password' }), password),
      errorEl,
      submit);

    function lock(seconds) {
      submit.disabled = true;
      let left = seconds;
      const tickLock = () => {
        if (left <= 0) {
          window.clearInterval(lockTimer);
          lockTimer = null;
          submit.disabled = false;
          submit.textContent = 'Sign in';
          return;
        }
        submit.textContent = `Sign in (wait ${left} s)`;
        left -= 1;
      };
      tickLock();
      lockTimer = window.setInterval(tickLock, 1000);
    }

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (submit.disabled) return;
      errorEl.textContent = '';
      name.removeAttribute('aria-invalid');
      password.removeAttribute('aria-invalid');
      const n = name.value.trim();
      if (!n || !password.value) {
        errorEl.textContent = 'Enter your name and password.';
        (n ? password : name).setAttribute('aria-invalid', 'true');
        (n ? password : name).focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = 'Signing in…';
      const r = await api('POST', '/api/login', { name: n, password: password.value });
      submit.textContent = 'Sign in';
      submit.disabled = false;
      if (r.ok && r.data) {
        if (lockTimer) window.clearInterval(lockTimer);
        enterConsole({ name: r.data.name || n, role: r.data.role || 'agent' });
        return;
      }
      if (r.status === 401) {
        errorEl.textContent = 'Wrong name or password.';
        password.value = '';
        password.setAttribute('aria-invalid', 'true');
        password.focus();
      } else if (r.status === 429) {
        let secs = parseInt((r.headers && r.headers.get('Retry-After')) || '', 10);
        if (!Number.isFinite(secs) || secs < 1) secs = 30;
        errorEl.textContent = `Too many attempts, try again in ${secs} s.`;
        lock(secs);
      } else {
        errorEl.textContent = apiMessage(r, 'Signing in failed. Please try again.');
      }
    });

    const main = h('main', { id: 'main', class: 'signin', tabindex: '-1' },
      h('div', { class: 'card' },
        h('p', { class: 'brand-line', text: 'Frontdesk' }),
        h('h1', { text: 'Agent console' }),
        h('p', { class: 'muted', text: 'Sign in to work patient chats.' }),
        notice ? h('p', { class: 'notice', role: 'status', text: notice }) : null,
        form));
    app.appendChild(main);
    name.focus();
  }

  function sessionEnded() {
    let notice = signingOut ? 'You have signed out.' : 'Your session ended. Please sign in again.';
    if (state.screen === 'signin') { signingOut = false; return; }
    if (signingOut) stash = null;
    else if (stashUnsent()) {
      notice += ' Messages you had not sent yet are kept and go out when you sign back in.';
    }
    signingOut = false;
    showSignIn(notice);
  }

  /** Keeps unsent messages and drafts (in memory only) when a session ends
   * unexpectedly, so they survive signing back in as the same agent.
   * Returns true when there was something to keep. */
  function stashUnsent() {
    if (!state.me) return false;
    const chats = new Map();
    for (const chat of state.chats.values()) {
      if (chat.closed) continue;
      const pending = Array.from(chat.pending.values()).filter((p) => p.state === 'sending');
      const draft = chat.el ? chat.el.composer.value : '';
      if (pending.length || draft.trim()) chats.set(chat.id, { pending, draft });
    }
    stash = chats.size ? { name: state.me.name, chats } : null;
    return Boolean(stash && Array.from(chats.values()).some((c) => c.pending.length));
  }

  function takeStash(chat) {
    if (!stash || !state.me || stash.name !== state.me.name) return;
    const kept = stash.chats.get(chat.id);
    if (!kept) return;
    stash.chats.delete(chat.id);
    for (const p of kept.pending) chat.pending.set(p.id, { id: p.id, text: p.text, state: 'sending', sentAt: 0 });
    if (kept.draft && chat.el && !chat.el.composer.value) chat.el.composer.value = kept.draft;
  }

  /** Stops sockets and timers and forgets everything about the last sign-in. */
  function teardown() {
    wsGeneration += 1;
    if (ws) {
      try { ws.close(1000); } catch (e) { /* already closed */ }
    }
    ws = null;
    if (reconnectTimer) window.clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (confirmTimer) window.clearTimeout(confirmTimer);
    confirmTimer = null;
    while (intervals.length) window.clearInterval(intervals.pop());
    for (const d of document.querySelectorAll('dialog')) d.remove();
    state.me = null;
    state.queue = [];
    state.chats = new Map();
    state.selected = null;
    state.claiming = new Set();
    state.seenQueue = new Set();
    state.callbacks = [];
    state.view = 'chats';
    state.connection = 'offline';
    backoffAttempt = 0;
    for (const k of Object.keys(ui)) delete ui[k];
    document.title = 'Agent console — Frontdesk';
  }

  async function signOut() {
    signingOut = true;
    wsGeneration += 1; // the 4001 close that follows is expected; do not reconnect
    try { window.sessionStorage.removeItem(STATUS_KEY); } catch (e) { /* storage off */ }
    await api('POST', '/api/logout');
    sessionEnded();
  }

  // ---------------------------------------------------------------- console shell

  function enterConsole(me) {
    teardown();
    state.me = { name: String(me.name), role: String(me.role) };
    if (stash && stash.name !== state.me.name) stash = null;
    const isEditor = state.me.role === 'editor';
    setScreen(isEditor ? 'editor' : 'console');
    const app = root();
    clear(app);

    const header = h('header', { class: 'topbar' });
    const brand = h('h1', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
      h('span', { class: 'brand-name', text: 'Frontdesk' }), ' ', h('span', { class: 'brand-sub', text: 'Agent console' }));
    header.appendChild(brand);

    const who = h('p', { class: 'who', testid: 'agent-name' },
      hiddenText('Signed in as '),
      h('strong', { text: state.me.name }),
      h('span', { class: 'role', text: ROLES[state.me.role] || state.me.role }));
    const signOutBtn = h('button', { type: 'button', class: 'btn btn-quiet', testid: 'sign-out', text: 'Sign out', onclick: signOut });

    if (isEditor) {
      header.appendChild(h('div', { class: 'topbar-right' }, who, signOutBtn));
      app.appendChild(header);
      app.appendChild(h('main', { id: 'main', class: 'editor-main', tabindex: '-1' },
        h('div', { class: 'card', testid: 'editor-message' },
          h('h2', { class: 'card-title', text: 'Editors work in the knowledge files' }),
          h('p', { text: 'Your account is an editor account. Editors keep the answers, articles and clinic details in the knowledge files up to date; they do not see patient chats.' }),
          h('p', { text: 'Patient chats are handled by agents, supervisors and admins. If you need to work chats, ask an admin for an agent account.' }))));
      document.getElementById('main').focus();
      return;
    }

    // Connection state
    // Only the state word is a live region; the countdown beside it is not,
    // so screen readers hear "Disconnected" once rather than every second.
    ui.connText = h('span', { class: 'conn-text', role: 'status', text: 'Connecting…' });
    ui.connDetail = h('span', { class: 'conn-detail' });
    ui.connRetry = h('button', { type: 'button', class: 'btn btn-link', text: 'Retry now', hidden: true, onclick: () => reconnectNow() });
    ui.conn = h('div', { class: 'conn', 'data-state': 'connecting', testid: 'connection-state' },
      h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), ui.connText, ui.connDetail);

    // Status toggle (radio pair)
    const statusName = uid('status');
    ui.statusOnline = h('input', { type: 'radio', name: statusName, id: `${statusName}-on`, value: 'online', checked: true, testid: 'status-online' });
    ui.statusAway = h('input', { type: 'radio', name: statusName, id: `${statusName}-away`, value: 'away', testid: 'status-away' });
    const statusBox = h('fieldset', { class: 'status-toggle' },
      h('legend', { class: 'visually-hidden', text: 'Your availability for new chats' }),
      h('span', { class: 'seg' }, ui.statusOnline, h('label', { for: ui.statusOnline.id, text: 'Online' })),
      h('span', { class: 'seg' }, ui.statusAway, h('label', { for: ui.statusAway.id, text: 'Away' })));
    for (const r of [ui.statusOnline, ui.statusAway]) {
      r.addEventListener('change', () => { if (r.checked) setStatus(r.value); });
    }

    // Section navigation
    ui.navBtns = {};
    ui.chatsCount = h('span', { class: 'count', hidden: true });
    ui.callbacksCount = h('span', { class: 'count', hidden: true });
    const navItem = (view, label, extra, testid) => {
      const b = h('button', { type: 'button', class: 'nav-btn', testid, onclick: () => setView(view, true) }, label, extra);
      ui.navBtns[view] = b;
      return h('li', null, b);
    };
    const nav = h('nav', { class: 'sections', 'aria-label': 'Console sections' },
      h('ul', null,
        navItem('chats', 'Chats', ui.chatsCount, 'nav-chats'),
        navItem('callbacks', 'Callbacks', ui.callbacksCount, 'nav-callbacks'),
        navItem('history', 'Past chats', null, 'nav-history'),
        navItem('appointments', 'Appointments', null, 'nav-appointments')));

    header.appendChild(nav);
    header.appendChild(h('div', { class: 'topbar-right' },
      h('div', { class: 'conn-wrap' }, ui.conn, ui.connRetry), who, statusBox, signOutBtn));
    app.appendChild(header);

    // Shown while the server cannot save messages (disk full, database
    // locked or unreachable); the server says when it works again.
    ui.storageBanner = h('div', { class: 'storage-banner', role: 'alert', testid: 'storage-banner', hidden: true });
    app.appendChild(ui.storageBanner);
    // Supervisors and admins: many chat bookings in a short time (someone
    // may be filling the calendar). Stays until dismissed.
    ui.burstText = h('p', { class: 'burst-text' });
    ui.burstBanner = h('div', { class: 'burst-banner', role: 'alert', testid: 'booking-alert', hidden: true },
      ui.burstText,
      h('button', { type: 'button', class: 'btn', onclick: dismissBurst }, 'Dismiss'));
    app.appendChild(ui.burstBanner);

    // Main area with three views
    ui.main = h('main', { id: 'main', tabindex: '-1' });
    ui.viewChats = buildChatsView();
    ui.viewCallbacks = buildCallbacksView();
    ui.viewHistory = buildHistoryView();
    ui.viewAppointments = buildAppointmentsView();
    append(ui.main, [ui.viewChats, ui.viewCallbacks, ui.viewHistory, ui.viewAppointments]);
    app.appendChild(ui.main);

    ui.toasts = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    app.appendChild(ui.toasts);

    setView('chats', false);
    renderQueue();
    renderChatList();
    connect();
    loadCallbacks();
    intervals.push(window.setInterval(loadCallbacks, CALLBACK_REFRESH_MS));
    intervals.push(window.setInterval(tick, 1000));
  }

  function setView(view, focus) {
    state.view = view;
    ui.viewChats.hidden = view !== 'chats';
    ui.viewCallbacks.hidden = view !== 'callbacks';
    ui.viewHistory.hidden = view !== 'history';
    ui.viewAppointments.hidden = view !== 'appointments';
    for (const [k, b] of Object.entries(ui.navBtns)) {
      if (k === view) b.setAttribute('aria-current', 'page');
      else b.removeAttribute('aria-current');
    }
    if (view === 'history') loadHistory();
    if (view === 'callbacks') loadCallbacks();
    if (view === 'appointments' && ui.loadAppointments) ui.loadAppointments();
    if (view === 'chats' && state.selected) markRead(state.chats.get(state.selected));
    if (focus) {
      const heading = { chats: ui.queueHeading, callbacks: ui.callbacksHeading, history: ui.historyHeading, appointments: ui.apptsHeading }[view];
      if (heading) heading.focus();
    }
  }

  function setStatus(status) {
    state.status = status;
    state.wantStatus = status; // re-applied after reconnects (the server greets everyone as online)
    try { window.sessionStorage.setItem(STATUS_KEY, status); } catch (e) { /* storage off */ }
    send({ type: 'status', status });
    renderStatus();
    toast(status === 'online' ? 'Your status is Online.' : 'Your status is Away. You still see the queue and keep your chats.');
  }

  function renderStatus() {
    if (!ui.statusOnline) return;
    ui.statusOnline.checked = state.status === 'online';
    ui.statusAway.checked = state.status !== 'online';
    const usable = state.connection === 'online';
    ui.statusOnline.disabled = !usable;
    ui.statusAway.disabled = !usable;
  }

  // ---------------------------------------------------------------- WebSocket

  function socketUrl() {
    const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${window.location.host}/console/ws`;
  }

  function setConnection(conn, text) {
    state.connection = conn;
    if (!ui.conn) return;
    ui.conn.setAttribute('data-state', conn);
    if (ui.connText.textContent !== text) ui.connText.textContent = text;
    ui.connDetail.textContent = conn === 'waiting' ? waitingText() : '';
    ui.connRetry.hidden = conn !== 'waiting';
    renderStatus();
    renderQueue();
    for (const chat of state.chats.values()) updateComposerState(chat);
  }

  function connect() {
    if (!state.me || state.screen !== 'console') return;
    if (reconnectTimer) window.clearTimeout(reconnectTimer);
    reconnectTimer = null;
    const gen = ++wsGeneration;
    setConnection('connecting', backoffAttempt ? 'Reconnecting…' : 'Connecting…');
    let sock;
    try {
      sock = new WebSocket(socketUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    let gotHello = false;
    sock.addEventListener('message', (ev) => {
      if (gen !== wsGeneration) return;
      if (typeof ev.data !== 'string') return;
      let frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (!frame || typeof frame !== 'object' || typeof frame.type !== 'string') return;
      if (frame.type === 'hello') gotHello = true;
      try {
        onFrame(frame);
      } catch (e) {
        // A bad frame must never take the console down.
        if (window.console) window.console.error('frontdesk console: frame failed', frame.type, e);
      }
    });
    sock.addEventListener('close', (ev) => {
      if (gen !== wsGeneration) return;
      ws = null;
      if (ev.code === 4001) {
        sessionEnded();
        return;
      }
      if (!gotHello) {
        // The upgrade may have been refused (401/403): ask the API why.
        api('GET', '/api/me').then((r) => {
          if (gen !== wsGeneration) return;
          if (r.status === 401) sessionEnded();
          else if (r.ok && r.data && r.data.role === 'editor') enterConsole(r.data);
          else scheduleReconnect();
        });
      } else {
        scheduleReconnect();
      }
    });
  }

  function scheduleReconnect() {
    if (state.screen !== 'console') return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** backoffAttempt);
    const delay = Math.round(base / 2 + Math.random() * (base / 2)); // jitter: 50–100 %
    backoffAttempt += 1;
    reconnectAt = Date.now() + delay;
    if (reconnectTimer) window.clearTimeout(reconnectTimer);
    reconnectTimer = window.setTimeout(connect, delay);
    setConnection('waiting', 'Disconnected');
  }

  function waitingText() {
    const s = Math.max(0, Math.ceil((reconnectAt - Date.now()) / 1000));
    return s > 0 ? `— retrying in ${s} s` : '— retrying…';
  }

  function reconnectNow() {
    backoffAttempt = 0;
    if (ws) {
      wsGeneration += 1;
      try { ws.close(1000); } catch (e) { /* ignore */ }
      ws = null;
    }
    connect();
  }

  function send(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch (e) {
      return false;
    }
  }

  function onFrame(f) {
    switch (f.type) {
      case 'hello': return onHello(f);
      case 'queue': return onQueue(f);
      case 'claimed': return onClaimed(f);
      default: state.restoring = false; return onOtherFrame(f);
    }
  }

  function onOtherFrame(f) {
    switch (f.type) {
      case 'message': return onMessage(f);
      case 'ack': return onAck(f);
      case 'typing': return onTyping(f);
      case 'note_added': return onNoteAdded(f);
      case 'released': return onReleased(f);
      case 'error': return onError(f);
      case 'storage': return renderStorage(f);
      case 'booking_alert': return renderBurst(f);
      case 'alert': return onSafetyAlert(f);
      default: return undefined; // unknown frame types are ignored
    }
  }

  // A dismissed alert stays dismissed across reconnects and reloads of this tab.
  const BURST_KEY = 'frontdesk:console:burst-dismissed';
  function dismissBurst() {
    ui.burstBanner.hidden = true;
    try { window.sessionStorage.setItem(BURST_KEY, ui.burstBanner.dataset.at || ''); } catch (e) { /* storage off */ }
  }
  function renderBurst(f) {
    let dismissed = null;
    try { dismissed = window.sessionStorage.getItem(BURST_KEY); } catch (e) { /* storage off */ }
    // The latest alert received, shown or not (Dismiss records it).
    ui.burstBanner.dataset.at = String(f.at || '');
    if (f.at && dismissed === String(f.at)) return;
    const n = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);
    const when = f.at ? new Date(f.at) : null;
    const time = when && !isNaN(when) ? ' (at ' + when.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' }) + ')' : '';
    const plural = (k, one, many) => k + ' ' + (k === 1 ? one : many);
    ui.burstText.textContent = 'Unusual booking activity in the chat' + time + ': ' +
      plural(n(f.bookings), 'booking', 'bookings') + ' and ' +
      plural(n(f.refused), 'attempt', 'attempts') + ' refused by the daily limits within ' +
      n(f.minutes) + ' minutes. Check Appointments for bookings nobody called about, and cancel ones that look made up.';
    ui.burstBanner.hidden = false;
  }

  function renderStorage(s) {
    if (!ui.storageBanner || !s || typeof s !== 'object') return;
    const failing = s.ok === false;
    const wasFailing = !ui.storageBanner.hidden;
    ui.storageBanner.hidden = !failing;
    ui.storageBanner.textContent = failing
      ? `Messages cannot be saved right now (${s.message || 'storage is failing'}). Patients are told to retry and their messages wait on their side; what you send is not delivered until saving works again.`
      : '';
    if (wasFailing && !failing) toast('Saving works again.');
  }

  function onHello(f) {
    backoffAttempt = 0;
    renderStorage(f.storage);
    if (typeof f.name === 'string' && f.name) state.me.name = f.name;
    if (f.status === 'online' || f.status === 'away') state.status = f.status;
    setConnection('online', 'Connected');
    if (!state.wantStatus) {
      let kept = null;
      try { kept = window.sessionStorage.getItem(STATUS_KEY); } catch (e) { /* storage off */ }
      if (kept === 'online' || kept === 'away') state.wantStatus = kept;
    }
    if (state.wantStatus && state.wantStatus !== state.status) {
      // The agent chose a status before the reconnect; keep it.
      if (send({ type: 'status', status: state.wantStatus })) state.status = state.wantStatus;
      renderStatus();
    }
    // Every chat we hold is re-sent as `claimed`; the ones that are not were
    // released while we were away.
    for (const chat of state.chats.values()) {
      if (!chat.closed) chat.confirmed = false;
    }
    // The `claimed` frames that follow `hello` (with only `queue` between)
    // restore chats we already held; they are not news.
    state.restoring = true;
    window.setTimeout(() => { state.restoring = false; }, 1500);
    if (confirmTimer) window.clearTimeout(confirmTimer);
    confirmTimer = window.setTimeout(() => {
      confirmTimer = null;
      for (const chat of state.chats.values()) {
        if (!chat.closed && !chat.confirmed) closeChat(chat, 'lost');
      }
    }, CONFIRM_AFTER_HELLO_MS);
  }

  // ---------------------------------------------------------------- queue

  function onQueue(f) {
    const items = Array.isArray(f.items) ? f.items : [];
    const now = performance.now();
    const fresh = [];
    state.queue = items
      .filter((it) => it && typeof it.conversation === 'string')
      .map((it) => ({
        conversation: it.conversation,
        position: Number(it.position) || 0,
        reason: it.reason,
        priority: it.priority === 'urgent' || it.reason === 'emergency' ? 'urgent' : 'normal',
        waiting_s: Number(it.waiting_s) || 0,
        lang: it.lang,
        preview: typeof it.preview === 'string' ? it.preview : '',
        t0: now,
      }))
      .sort((a, b) => a.position - b.position);
    const ids = new Set(state.queue.map((q) => q.conversation));
    for (const it of state.queue) {
      if (!state.seenQueue.has(it.conversation)) fresh.push(it);
    }
    // Forget ids that left the queue, so a chat that comes back is announced again.
    state.seenQueue = ids;
    for (const id of Array.from(state.claiming)) {
      if (!ids.has(id)) state.claiming.delete(id);
    }
    renderQueue();
    for (const it of fresh) {
      const urgent = it.priority === 'urgent';
      announce(it.reason === 'emergency'
        ? 'Urgent chat in the queue: possible emergency.'
        : `${urgent ? 'Urgent chat' : 'New chat'} in the queue: ${reasonLabel(it.reason)}.`);
    }
  }

  function buildChatsView() {
    ui.queueHeading = h('h2', { id: 'queue-heading', tabindex: '-1' }, 'Queue ', h('span', { class: 'count-inline', text: '' }));
    ui.queueCountEl = ui.queueHeading.lastChild;
    ui.queueList = h('ol', { class: 'queue-list', testid: 'queue-list', 'aria-labelledby': 'queue-heading' });
    ui.queueEmpty = h('p', { class: 'empty', text: 'No one is waiting. New chats appear here.' });
    ui.queueItems = new Map();

    ui.myHeading = h('h2', { id: 'my-heading' }, 'Your chats ', h('span', { class: 'count-inline' }));
    ui.myCountEl = ui.myHeading.lastChild;
    ui.chatList = h('ul', { class: 'chat-list', 'aria-labelledby': 'my-heading' });
    ui.chatListEmpty = h('p', { class: 'empty', text: 'Claim a chat from the queue to start.' });
    ui.closedHeading = h('h2', { id: 'closed-heading', text: 'Closed this session' });
    ui.closedList = h('ul', { class: 'chat-list chat-list-closed', 'aria-labelledby': 'closed-heading' });
    ui.closedSection = h('section', { class: 'panel-section', hidden: true }, ui.closedHeading, ui.closedList);
    ui.chatTabs = new Map();

    const sidebar = h('div', { class: 'sidebar' },
      h('section', { class: 'panel-section queue', 'aria-labelledby': 'queue-heading' }, ui.queueHeading, ui.queueList, ui.queueEmpty),
      h('section', { class: 'panel-section', 'aria-labelledby': 'my-heading' }, ui.myHeading, ui.chatList, ui.chatListEmpty),
      ui.closedSection);

    ui.chatArea = h('section', { class: 'chat-area', 'aria-label': 'Open chat' });
    ui.chatPlaceholder = h('div', { class: 'chat-placeholder' },
      h('h2', { text: 'No chat open' }),
      h('p', { text: 'Claim a chat from the queue, or pick one of your chats, to see the hand-over summary and the conversation.' }));
    ui.chatArea.appendChild(ui.chatPlaceholder);

    return h('div', { class: 'view view-chats' }, sidebar, ui.chatArea);
  }

  function renderQueue() {
    if (!ui.queueList) return;
    const keep = new Set();
    for (const it of state.queue) {
      keep.add(it.conversation);
      let entry = ui.queueItems.get(it.conversation);
      if (!entry) {
        entry = buildQueueItem(it);
        ui.queueItems.set(it.conversation, entry);
      }
      updateQueueItem(entry, it);
      ui.queueList.appendChild(entry.li); // appendChild moves it: keeps order without rebuilding
    }
    for (const [id, entry] of ui.queueItems) {
      if (!keep.has(id)) {
        const hadFocus = entry.li.contains(document.activeElement);
        entry.li.remove();
        ui.queueItems.delete(id);
        if (hadFocus) ui.queueHeading.focus();
      }
    }
    ui.queueEmpty.hidden = state.queue.length > 0;
    ui.queueCountEl.textContent = state.queue.length ? `(${state.queue.length})` : '';
    setCount(ui.chatsCount, state.queue.length, 'waiting');
    updateTitle();
  }

  function buildQueueItem(it) {
    const e = {};
    e.pos = h('span', { class: 'q-pos' });
    e.reason = h('span', { class: 'q-reason' });
    e.wait = h('span', { class: 'q-wait' });
    e.lang = h('span', { class: 'q-lang' });
    e.preview = h('p', { class: 'q-preview' });
    e.claim = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'claim-button', text: 'Claim' });
    e.claim.addEventListener('click', () => claim(it.conversation, e));
    e.li = h('li', { class: 'q-item', testid: 'queue-item', 'data-conversation': it.conversation },
      h('div', { class: 'q-top' }, e.pos, e.reason),
      h('div', { class: 'q-meta' }, e.wait, e.lang),
      e.preview,
      h('div', { class: 'q-actions' }, e.claim));
    return e;
  }

  function updateQueueItem(e, it) {
    e.item = it;
    const urgent = it.priority === 'urgent';
    e.li.classList.toggle('urgent', urgent);
    e.li.classList.toggle('emergency', it.reason === 'emergency');
    clear(e.pos);
    append(e.pos, [hiddenText('Position '), h('span', { 'aria-hidden': 'true', text: '#' }), String(it.position)]);
    clear(e.reason);
    if (urgent) e.reason.appendChild(h('span', { class: 'urgent-icon', 'aria-hidden': 'true', text: '!' }));
    e.reason.appendChild(document.createTextNode(reasonLabel(it.reason)));
    if (urgent && it.reason !== 'emergency') e.reason.appendChild(h('span', { class: 'badge badge-urgent', text: 'Urgent' }));
    updateQueueWait(e);
    clear(e.lang);
    e.lang.appendChild(langBadge(it.lang));
    e.preview.textContent = it.preview ? `“${it.preview}”` : 'No message yet';
    const busy = state.claiming.has(it.conversation);
    e.claim.disabled = busy || state.connection !== 'online';
    e.claim.textContent = busy ? 'Claiming…' : 'Claim';
    e.claim.setAttribute('aria-label', `Claim chat at position ${it.position}: ${reasonLabel(it.reason)}`);
  }

  function updateQueueWait(e) {
    const it = e.item;
    const secs = it.waiting_s + (performance.now() - it.t0) / 1000;
    e.wait.textContent = `Waiting ${fmtDuration(secs)}`;
  }

  function claim(conversation, entry) {
    if (!send({ type: 'claim', conversation })) {
      toast('Not connected. The chat can be claimed once the console reconnects.', 'error');
      return;
    }
    state.claiming.add(conversation);
    if (entry && entry.item) updateQueueItem(entry, entry.item);
  }

  function tick() {
    if (!ui.queueItems) return;
    for (const e of ui.queueItems.values()) updateQueueWait(e);
    const now = Date.now();
    for (const chat of state.chats.values()) {
      if (chat.typingUntil && chat.typingUntil < now) {
        chat.typingUntil = 0;
        renderTyping(chat);
      }
    }
    if (state.connection === 'waiting' && ui.connDetail) ui.connDetail.textContent = waitingText();
  }

  // ---------------------------------------------------------------- chats

  function newChat(id) {
    return {
      id,
      lang: 'en',
      reason: null,
      context: null,
      messages: new Map(), // seq -> message
      notes: [],
      pending: new Map(), // client id -> {id, text, state: 'sending'|'failed', error}
      mine: new Set(), // seqs this console sent
      unread: 0,
      typingUntil: 0,
      lastTypingSent: 0,
      closed: false,
      why: null,
      confirmed: true,
      claimedAt: Date.now(),
      el: null,
    };
  }

  function onClaimed(f) {
    if (typeof f.conversation !== 'string') return;
    const id = f.conversation;
    let chat = state.chats.get(id);
    const requested = state.claiming.has(id);
    state.claiming.delete(id);
    const isNew = !chat || chat.closed;
    if (!chat || chat.closed) {
      if (chat && chat.el) chat.el.pane.remove();
      chat = newChat(id);
      state.chats.set(id, chat);
    }
    chat.confirmed = true;
    const ctx = f.context && typeof f.context === 'object' ? f.context : {};
    chat.context = ctx;
    if (typeof ctx.lang === 'string') chat.lang = ctx.lang;
    if (typeof ctx.reason === 'string') chat.reason = ctx.reason;
    const queued = state.queue.find((q) => q.conversation === id);
    if (queued) {
      if (!ctx.lang && queued.lang) chat.lang = queued.lang;
      if (!ctx.reason && queued.reason) chat.reason = queued.reason;
      // The queue's own clock, for when the packet has no waiting time.
      chat.waitedFallback = queued.waiting_s + (performance.now() - queued.t0) / 1000;
    }
    chat.messages = new Map();
    chat.moreHistory = f.more_history === true;
    for (const m of Array.isArray(f.history) ? f.history : []) addHistoryMessage(chat, m);
    chat.notes = (Array.isArray(f.notes) ? f.notes : []).filter((n) => n && typeof n.text === 'string');
    if (!chat.el) buildChatPane(chat);
    if (isNew) takeStash(chat);
    renderChat(chat);
    renderChatList();
    // Resend anything the server never acked, with the same id (idempotent).
    for (const p of chat.pending.values()) {
      if (p.state === 'sending') sendSayFrame(chat, p);
    }
    updateComposerState(chat);
    // Frames right after `hello` restore chats we already held; later
    // unrequested ones are transfers to us.
    const inBurst = Boolean(state.restoring);
    if (requested) {
      selectChat(id, true);
      announce(`You claimed ${chatTitle(chat)}: ${reasonLabel(chat.reason)}.`);
    } else {
      if (isNew && !inBurst) {
        toast(`A chat was transferred to you: ${chatTitle(chat)}.`);
        announce(`A chat was transferred to you: ${reasonLabel(chat.reason)}.`);
        chat.unread = Math.max(chat.unread, 1);
        renderChatList();
      }
      if (!state.selected) selectChat(id, false);
    }
  }

  function addHistoryMessage(chat, m) {
    if (!m || typeof m !== 'object') return false;
    const seq = Number(m.seq);
    if (!Number.isFinite(seq)) return false;
    const msg = {
      seq,
      from: typeof m.from === 'string' ? m.from : 'system',
      text: typeof m.text === 'string' ? m.text : '',
      at: typeof m.at === 'string' ? m.at : null,
      article: typeof m.article === 'string' ? m.article : null,
      confidence: typeof m.confidence === 'number' ? m.confidence : null,
      choices: Array.isArray(m.choices) ? m.choices : null,
    };
    const had = chat.messages.has(seq);
    chat.messages.set(seq, msg);
    return !had;
  }

  function onMessage(f) {
    const chat = state.chats.get(f.conversation);
    if (!chat || chat.closed) return;
    const added = addHistoryMessage(chat, f);
    if (!added) return;
    if (f.from === 'patient') {
      chat.typingUntil = 0;
      const visible = isChatVisible(chat);
      if (!visible) chat.unread += 1;
      announce(`${chatTitle(chat)}, patient: ${truncate(String(f.text || ''), 140)}`);
    }
    renderMessages(chat);
    renderTyping(chat);
    renderChatList();
  }

  // What the patient was told when a safety rule fired, by kind, and what
  // the agent should do now (agents are not clinicians).
  const SAFETY = {
    medical: { label: 'Possible emergency', told: 'The patient was told to call 911 now.', level: 'urgent' },
    crisis: { label: 'Possible crisis', told: 'The patient was given the 988 crisis line (and 911 if in danger).', level: 'urgent' },
    urgent: { label: 'Care needed today', told: 'The patient was told to call the nurse line or go to urgent care today.', level: 'warn' },
  };

  function onSafetyAlert(f) {
    const chat = state.chats.get(f.conversation);
    if (!chat || chat.closed) return;
    const kind = SAFETY[f.kind] ? f.kind : 'medical';
    chat.safety = { kind, category: typeof f.category === 'string' ? f.category : '', at: Date.now() };
    renderSafety(chat);
    if (!isChatVisible(chat)) {
      // The banner (role=alert) speaks for the open chat; another chat's
      // alert is announced, shown as a toast and marked in the list.
      chat.unread = Math.max(chat.unread, 1);
      const text = `${chatTitle(chat)}: ${SAFETY[kind].label}. ${SAFETY[kind].told}`;
      announce(text);
      toast(text);
    }
    renderChatList();
  }

  function renderSafety(chat) {
    const el = chat.el;
    if (!el) return;
    const alert = chat.safety;
    el.safety.hidden = !alert || chat.closed;
    if (!alert) return;
    const what = SAFETY[alert.kind];
    const topic = alert.category ? ` (${alert.category.replace(/_/g, ' ')})` : '';
    el.safetyText.textContent = `${what.label}${topic}. ${what.told} Stay with the patient, and follow the clinic's emergency procedure.`;
    el.safety.dataset.level = what.level;
  }

  function truncate(s, n) {
    return s.length > n ? `${s.slice(0, n - 1)}…` : s;
  }

  function isChatVisible(chat) {
    return state.view === 'chats' && state.selected === chat.id && !document.hidden;
  }

  function onAck(f) {
    const chat = state.chats.get(f.conversation);
    if (!chat) return;
    const p = chat.pending.get(f.id);
    if (!p) return;
    chat.pending.delete(f.id);
    const seq = Number(f.seq);
    if (Number.isFinite(seq)) {
      chat.mine.add(seq);
      if (!chat.messages.has(seq)) {
        chat.messages.set(seq, { seq, from: 'agent', text: p.text, at: new Date().toISOString() });
      }
    }
    renderMessages(chat);
  }

  function onTyping(f) {
    const chat = state.chats.get(f.conversation);
    if (!chat || chat.closed) return;
    if (f.from && f.from !== 'patient') return;
    chat.typingUntil = Date.now() + PATIENT_TYPING_SHOWN_MS;
    renderTyping(chat);
  }

  function onNoteAdded(f) {
    const chat = state.chats.get(f.conversation);
    if (!chat || typeof f.text !== 'string') return;
    chat.noteInFlight = false;
    chat.notes.push({ author: f.author, text: f.text, at: f.at });
    renderMessages(chat);
  }

  function onReleased(f) {
    const chat = state.chats.get(f.conversation);
    if (!chat || chat.closed) return;
    closeChat(chat, typeof f.why === 'string' ? f.why : 'lost');
  }

  function closeChat(chat, why) {
    chat.closed = true;
    chat.why = why;
    chat.typingUntil = 0;
    chat.closedAt = Date.now();
    for (const p of chat.pending.values()) {
      if (p.state === 'sending') {
        p.state = 'failed';
        p.error = 'The chat closed before this message was stored; the patient did not get it.';
      }
    }
    const msg = WHY[why] || `This chat was closed (${why}).`;
    toast(`${chatTitle(chat)}: ${msg}`);
    if (why === 'patient_ended' || why === 'transferred' || why === 'lost') announce(`${chatTitle(chat)}: ${msg}`);
    // Keep at most MAX_CLOSED_KEPT closed chats in memory.
    const closed = Array.from(state.chats.values()).filter((c) => c.closed).sort((a, b) => a.closedAt - b.closedAt);
    while (closed.length > MAX_CLOSED_KEPT) {
      const old = closed.shift();
      if (old.id === state.selected) break;
      if (old.el) old.el.pane.remove();
      state.chats.delete(old.id);
    }
    renderChat(chat);
    renderChatList();
  }

  function onError(f) {
    const code = f.code;
    const message = typeof f.message === 'string' && f.message ? f.message : 'The server refused that.';
    const chat = typeof f.conversation === 'string' ? state.chats.get(f.conversation) : null;
    if (code === 'already_claimed') {
      if (f.conversation) state.claiming.delete(f.conversation);
      renderQueue();
      toast('Another agent took this chat.', 'info');
      return;
    }
    if (code === 'not_queued') {
      if (f.conversation) state.claiming.delete(f.conversation);
      renderQueue();
      toast('That chat is no longer waiting in the queue.', 'info');
      return;
    }
    // Refusals of a `say` may not carry its id. The server handles one
    // socket's frames in order, so a say-shaped refusal belongs to the oldest
    // say of that chat still waiting for its ack.
    let pendingId = f.id;
    if (chat && !pendingId && ['empty_text', 'text_too_long', 'unavailable', 'bad_frame'].includes(code)) {
      const oldest = Array.from(chat.pending.values()).find((p) => p.state === 'sending' && p.sentAt);
      if (oldest && !(code === 'bad_frame' && chat.noteInFlight)) pendingId = oldest.id;
    }
    if (chat) chat.noteInFlight = false;
    if (chat && pendingId && chat.pending.has(pendingId)) {
      const p = chat.pending.get(pendingId);
      if (code === 'unavailable') {
        // Not stored: try again shortly with the same id.
        window.setTimeout(() => {
          if (chat.pending.get(p.id) === p && p.state === 'sending') {
            sendSayFrame(chat, p);
          }
        }, 3000);
        return;
      }
      p.state = 'failed';
      p.error = message;
      renderMessages(chat);
      return;
    }
    if (code === 'not_yours' && chat && !chat.closed) {
      closeChat(chat, 'lost');
      return;
    }
    if (code === 'unknown_agent') {
      toast('That agent is not available for a transfer. Pick someone else.', 'error');
      return;
    }
    toast(chat ? `${chatTitle(chat)}: ${message}` : message, 'error');
  }

  // ---------------------------------------------------------------- chat list (left)

  function renderChatList() {
    if (!ui.chatList) return;
    const active = [];
    const closed = [];
    for (const chat of state.chats.values()) (chat.closed ? closed : active).push(chat);
    active.sort((a, b) => a.claimedAt - b.claimedAt);
    closed.sort((a, b) => b.closedAt - a.closedAt);
    const keep = new Set();
    const place = (list, chat) => {
      keep.add(chat.id);
      let tab = ui.chatTabs.get(chat.id);
      if (!tab) {
        tab = buildChatTab(chat);
        ui.chatTabs.set(chat.id, tab);
      }
      updateChatTab(tab, chat);
      list.appendChild(tab.li);
    };
    for (const c of active) place(ui.chatList, c);
    for (const c of closed) place(ui.closedList, c);
    for (const [id, tab] of ui.chatTabs) {
      if (!keep.has(id)) {
        tab.li.remove();
        ui.chatTabs.delete(id);
      }
    }
    ui.chatListEmpty.hidden = active.length > 0;
    ui.closedSection.hidden = closed.length === 0;
    ui.myCountEl.textContent = active.length ? `(${active.length})` : '';
    updateTitle();
  }

  function buildChatTab(chat) {
    const t = {};
    t.title = h('span', { class: 'tab-title' });
    t.sub = h('span', { class: 'tab-sub' });
    t.unread = h('span', { class: 'unread', hidden: true });
    t.btn = h('button', { type: 'button', class: 'chat-tab', testid: 'chat-tab', 'data-conversation': chat.id },
      h('span', { class: 'tab-main' }, t.title, t.sub), t.unread);
    t.btn.addEventListener('click', () => selectChat(chat.id, true));
    t.li = h('li', null, t.btn);
    return t;
  }

  function updateChatTab(t, chat) {
    t.title.textContent = chatTitle(chat);
    const parts = [reasonLabel(chat.reason), (chat.lang || '').toUpperCase()];
    if (chat.closed) parts.push(chat.why === 'resolved' ? 'resolved' : chat.why === 'returned_to_bot' ? 'returned to bot' : chat.why === 'transferred' ? 'transferred' : chat.why === 'patient_ended' ? 'patient left' : 'closed');
    else if (chat.typingUntil > Date.now()) parts.push('typing…');
    t.sub.textContent = parts.filter(Boolean).join(' · ');
    if (chat.safety && !chat.closed) parts.unshift(SAFETY[chat.safety.kind].label);
    t.btn.classList.toggle('urgent', chat.reason === 'emergency' || Boolean(chat.safety && SAFETY[chat.safety.kind].level === 'urgent' && !chat.closed));
    if (state.selected === chat.id) t.btn.setAttribute('aria-current', 'true');
    else t.btn.removeAttribute('aria-current');
    setCount(t.unread, chat.unread, 'unread');
  }

  function updateTitle() {
    let unread = 0;
    for (const c of state.chats.values()) if (!c.closed) unread += c.unread;
    const waiting = state.queue.length;
    const prefix = unread ? `(${unread}) ` : waiting ? `[${waiting} waiting] ` : '';
    document.title = `${prefix}Agent console — Frontdesk`;
  }

  function selectChat(id, focus) {
    const chat = state.chats.get(id);
    if (!chat) return;
    state.selected = id;
    if (state.view !== 'chats') setView('chats', false);
    for (const c of state.chats.values()) {
      if (c.el) c.el.pane.hidden = c.id !== id;
    }
    ui.chatPlaceholder.hidden = true;
    markRead(chat);
    renderChatList();
    scrollToEnd(chat, true);
    if (focus) {
      if (!chat.closed && chat.el.composer && !chat.el.composer.disabled) chat.el.composer.focus();
      else chat.el.heading.focus();
      if (window.matchMedia('(max-width: 760px)').matches) {
        chat.el.pane.scrollIntoView({ block: 'start', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
      }
    }
  }

  function prefersReducedMotion() {
    return window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  }

  function markRead(chat) {
    if (!chat || !chat.unread) return;
    chat.unread = 0;
    renderChatList();
  }

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.selected && state.view === 'chats') markRead(state.chats.get(state.selected));
  });

  // ---------------------------------------------------------------- chat pane

  function buildChatPane(chat) {
    const el = {};
    const headingId = uid('chat-title');
    el.heading = h('h2', { id: headingId, tabindex: '-1' });
    el.headLang = h('span', { class: 'head-lang' });
    el.headReason = h('span', { class: 'head-reason' });

    const tool = (label, testid, onclick, cls) => h('button', { type: 'button', class: `btn ${cls || 'btn-secondary'} btn-small`, testid, text: label, onclick });
    el.tools = h('div', { class: 'tools', role: 'group', 'aria-label': 'Chat actions' },
      tool('Insert answer', 'insert-answer-button', () => openArticleDialog(chat)),
      tool('Note', 'note-button', () => openNoteDialog(chat)),
      tool('Transfer', 'transfer-button', () => openTransferDialog(chat)),
      tool('Return to bot', 'return-button', () => openReturnDialog(chat)),
      tool('Resolve', 'resolve-button', () => openResolveDialog(chat), 'btn-primary'));

    el.banner = h('p', { class: 'closed-banner', hidden: true });
    el.safetyText = h('span');
    el.safety = h('div', { class: 'safety-banner', role: 'alert', testid: 'safety-alert', hidden: true },
      el.safetyText,
      h('button', { type: 'button', class: 'btn btn-secondary btn-small', text: 'Dismiss', onclick: () => {
        chat.safety = null;
        renderSafety(chat);
      } }));
    el.context = h('div', { class: 'context-body' });
    el.contextBox = h('details', { class: 'context', open: true, testid: 'context' },
      h('summary', { text: 'Hand-over summary' }), el.context);

    el.messages = h('ol', { class: 'messages', testid: 'message-list', 'aria-label': 'Conversation', tabindex: '0' });
    el.typing = h('p', { class: 'typing', testid: 'typing', hidden: true },
      h('span', { class: 'dots', 'aria-hidden': 'true' }, h('span'), h('span'), h('span')), ' Patient is typing…');

    const composerId = uid('composer');
    const hintId = uid('composer-hint');
    el.composer = h('textarea', {
      id: composerId, rows: '3', testid: 'composer', 'aria-describedby': hintId, spellcheck: 'true',
      lang: chat.lang || 'en',
    });
    el.count = h('span', { class: 'char-count', 'aria-live': 'polite' });
    el.hint = h('p', { id: hintId, class: 'hint' }, 'Enter sends · Shift+Enter adds a new line ', el.count);
    el.send = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'send-button', text: 'Send' });
    el.form = h('form', { class: 'composer', 'aria-label': 'Reply to the patient' },
      h('label', { for: composerId, class: 'composer-label', text: 'Message to the patient' }),
      h('div', { class: 'composer-row' }, el.composer, el.send),
      el.hint);
    el.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      sendSay(chat);
    });
    el.composer.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        ev.preventDefault();
        sendSay(chat);
      }
    });
    el.composer.addEventListener('input', () => {
      const text = el.composer.value;
      updateCharCount(chat);
      const now = Date.now();
      if (text.trim() && now - chat.lastTypingSent >= TYPING_EVERY_MS && !chat.closed) {
        if (send({ type: 'typing', conversation: chat.id })) chat.lastTypingSent = now;
      }
    });

    el.pane = h('article', { class: 'chat', testid: 'chat-pane', 'data-conversation': chat.id, 'aria-labelledby': headingId, hidden: true },
      h('header', { class: 'chat-head' },
        h('div', { class: 'chat-id' }, el.heading, h('p', { class: 'chat-sub' }, el.headReason, el.headLang)),
        el.tools),
      el.banner,
      el.safety,
      el.contextBox,
      el.messages,
      el.typing,
      el.form);
    chat.el = el;
    ui.chatArea.appendChild(el.pane);
  }

  function renderChat(chat) {
    const el = chat.el;
    if (!el) return;
    el.heading.textContent = chatTitle(chat);
    el.headReason.textContent = reasonLabel(chat.reason);
    el.headReason.classList.toggle('urgent-text', chat.reason === 'emergency');
    clear(el.headLang);
    el.headLang.appendChild(langBadge(chat.lang));
    el.composer.setAttribute('lang', chat.lang || 'en');
    el.tools.hidden = chat.closed;
    el.banner.hidden = !chat.closed;
    el.banner.textContent = chat.closed ? `${WHY[chat.why] || 'This chat is closed.'} The transcript below is read-only.` : '';
    el.form.hidden = chat.closed;
    renderContext(chat);
    renderSafety(chat);
    renderMessages(chat);
    renderTyping(chat);
    updateComposerState(chat);
  }

  function renderContext(chat) {
    const el = chat.el;
    const ctx = chat.context || {};
    clear(el.context);
    const dl = h('dl', { class: 'facts' });
    const fact = (term, ...val) => append(dl, [h('dt', { text: term }), h('dd', null, ...val)]);
    fact('Reason', h('span', { class: chat.reason === 'emergency' ? 'urgent-text' : '', text: reasonLabel(ctx.reason || chat.reason) }));
    fact('Language', LANGS[ctx.lang || chat.lang] || String(ctx.lang || chat.lang || 'unknown'));
    const waited = typeof ctx.waiting_s === 'number' ? ctx.waiting_s : chat.waitedFallback;
    fact('Waited', typeof waited === 'number' ? fmtDuration(waited) : 'unknown');
    el.context.appendChild(dl);

    const questions = Array.isArray(ctx.questions) ? ctx.questions.filter((q) => typeof q === 'string') : [];
    el.context.appendChild(h('h3', { text: 'The patient asked' }));
    if (questions.length) {
      el.context.appendChild(h('ol', { class: 'ctx-questions' }, questions.map((q) => h('li', { text: q }))));
    } else {
      el.context.appendChild(h('p', { class: 'muted', text: 'No questions recorded.' }));
    }

    const bot = Array.isArray(ctx.bot) ? ctx.bot.filter((b) => b && typeof b === 'object') : [];
    el.context.appendChild(h('h3', { text: 'The bot answered or offered' }));
    if (bot.length) {
      el.context.appendChild(h('ul', { class: 'ctx-bot' }, bot.map((b) => h('li', null,
        h('p', { class: 'ctx-bot-text', text: typeof b.text === 'string' ? b.text : '' }),
        botMeta(b.article, b.confidence)))));
    } else {
      el.context.appendChild(h('p', { class: 'muted', text: 'The bot had no answer.' }));
    }
  }

  function botMeta(article, confidence) {
    const parts = [];
    if (typeof confidence === 'number' && Number.isFinite(confidence)) {
      parts.push(`${Math.round(Math.max(0, Math.min(1, confidence)) * 100)} % confident`);
    }
    if (typeof article === 'string' && article) parts.push(`article ${article}`);
    if (!parts.length) return null;
    return h('p', { class: 'bot-meta', text: parts.join(' · ') });
  }

  function renderMessages(chat) {
    const el = chat.el;
    if (!el) return;
    const list = el.messages;
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    clear(list);
    // Messages in seq order; each note slotted in after the messages written before it.
    const msgs = Array.from(chat.messages.values(), (m) => ({ kind: 'msg', m, t: parseDate(m.at) }))
      .sort((a, b) => a.m.seq - b.m.seq);
    const notes = chat.notes.map((n) => ({ kind: 'note', n, t: parseDate(n.at) }))
      .sort((a, b) => (a.t ? a.t.getTime() : 0) - (b.t ? b.t.getTime() : 0));
    const merged = [];
    let ni = 0;
    for (const m of msgs) {
      const mt = m.t ? m.t.getTime() : 0;
      while (ni < notes.length && (notes[ni].t ? notes[ni].t.getTime() : 0) < mt) merged.push(notes[ni++]);
      merged.push(m);
    }
    while (ni < notes.length) merged.push(notes[ni++]);

    // A long chat comes with its newest messages only.
    if (chat.moreHistory) {
      list.appendChild(h('li', { class: 'msg msg-system',
        text: 'Only the newest 200 messages of this long chat are shown here; "Past chats" shows the newest 500.' }));
    }
    for (const it of merged) {
      if (it.kind === 'msg') list.appendChild(messageItem(it.m, chat.mine.has(it.m.seq)));
      else list.appendChild(noteItem(it.n));
    }
    for (const p of chat.pending.values()) list.appendChild(pendingItem(chat, p));
    if (!list.firstChild) list.appendChild(h('li', { class: 'msg msg-system', text: 'No messages yet.' }));
    if (atEnd || chat.forceScroll) scrollToEnd(chat, false);
  }

  function scrollToEnd(chat) {
    if (!chat || !chat.el) return;
    const list = chat.el.messages;
    list.scrollTop = list.scrollHeight;
  }

  /** One transcript message. Exported to the past-chat view as well. */
  function messageItem(m, mine) {
    const from = FROM_LABELS[m.from] ? m.from : 'system';
    const who = mine ? 'You' : FROM_LABELS[from];
    const li = h('li', { class: `msg msg-${from}${mine ? ' msg-mine' : ''}`, 'data-seq': m.seq });
    li.appendChild(h('p', { class: 'msg-meta' }, h('span', { class: 'msg-who', text: who }), ' ', timeEl(m.at)));
    li.appendChild(h('p', { class: 'msg-text', text: m.text }));
    if (from === 'bot') {
      const meta = botMeta(m.article, m.confidence);
      if (meta) li.appendChild(meta);
      if (m.choices && m.choices.length) {
        const labels = m.choices.map((c) => (c && typeof c.label === 'string' ? c.label : '')).filter(Boolean);
        if (labels.length) li.appendChild(h('p', { class: 'bot-meta', text: `Offered: ${labels.join(' · ')}` }));
      }
    }
    return li;
  }

  function noteItem(n) {
    return h('li', { class: 'msg msg-note' },
      h('p', { class: 'msg-meta' },
        h('span', { class: 'note-label', text: 'Internal note — patient can\'t see this' }), ' ',
        h('span', { class: 'msg-who', text: n.author ? String(n.author) : '' }), ' ', timeEl(n.at)),
      h('p', { class: 'msg-text', text: n.text }));
  }

  function pendingItem(chat, p) {
    const li = h('li', { class: `msg msg-agent msg-mine pending${p.state === 'failed' ? ' failed' : ''}` },
      h('p', { class: 'msg-meta' }, h('span', { class: 'msg-who', text: 'You' }), ' ',
        h('span', { class: 'pending-state', text: p.state === 'failed' ? 'Not sent' : 'sending…' })),
      h('p', { class: 'msg-text', text: p.text }));
    if (p.state === 'failed') {
      li.appendChild(h('p', { class: 'fail-reason', text: p.error || 'The server refused this message.' }));
      if (!chat.closed) li.appendChild(h('div', { class: 'fail-actions' },
        h('button', {
          type: 'button', class: 'btn btn-secondary btn-small', text: 'Edit and resend',
          onclick: () => {
            chat.pending.delete(p.id);
            const c = chat.el.composer;
            c.value = c.value ? `${p.text}\n${c.value}` : p.text;
            updateCharCount(chat);
            renderMessages(chat);
            c.focus();
          },
        }),
        h('button', {
          type: 'button', class: 'btn btn-quiet btn-small', text: 'Discard',
          onclick: () => { chat.pending.delete(p.id); renderMessages(chat); chat.el.composer.focus(); },
        })));
    }
    return li;
  }

  function renderTyping(chat) {
    if (!chat.el) return;
    const on = !chat.closed && chat.typingUntil > Date.now();
    if (chat.el.typing.hidden === on) chat.el.typing.hidden = !on;
    const tab = ui.chatTabs && ui.chatTabs.get(chat.id);
    if (tab) updateChatTab(tab, chat);
  }

  function updateCharCount(chat) {
    const n = graphemeCount(chat.el.composer.value);
    chat.el.count.textContent = n > MAX_TEXT - 200 ? `· ${n} / ${MAX_TEXT} characters` : '';
  }

  function updateComposerState(chat) {
    if (!chat.el) return;
    // Typing stays possible while offline; messages wait and go out on reconnect.
    chat.el.send.disabled = chat.closed;
    for (const b of chat.el.tools.querySelectorAll('button')) {
      const needsSocket = b.getAttribute('data-testid') !== 'insert-answer-button';
      b.disabled = chat.closed || (needsSocket && state.connection !== 'online');
    }
  }

  function sendSayFrame(chat, p) {
    if (send({ type: 'say', conversation: chat.id, id: p.id, text: p.text })) p.sentAt = Date.now();
  }

  function sendSay(chat) {
    if (chat.closed) return;
    const c = chat.el.composer;
    const text = c.value.trim();
    if (!text) {
      c.focus();
      return;
    }
    if (graphemeCount(text) > MAX_TEXT) {
      toast(`Messages can be at most ${MAX_TEXT} characters. Shorten it or split it in two.`, 'error');
      return;
    }
    const id = newId();
    const p = { id, text, state: 'sending', sentAt: 0 };
    chat.pending.set(id, p);
    if (chat.confirmed) sendSayFrame(chat, p);
    c.value = '';
    updateCharCount(chat);
    chat.forceScroll = true;
    renderMessages(chat);
    chat.forceScroll = false;
    c.focus();
  }

  // ---------------------------------------------------------------- dialogs

  /** A modal <dialog>. Returns {dialog, body, close}. Focus returns to the opener. */
  function openDialog(title, opts) {
    const opener = document.activeElement;
    const titleId = uid('dlg-title');
    const body = h('div', { class: 'dialog-body' });
    const closeBtn = h('button', { type: 'button', class: 'dialog-x' }, h('span', { 'aria-hidden': 'true', text: '×' }), hiddenText('Close'));
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, testid: opts && opts.testid },
      h('div', { class: 'dialog-head' }, h('h2', { id: titleId, text: title }), closeBtn),
      body);
    const close = () => { if (dialog.open) dialog.close(); };
    closeBtn.addEventListener('click', close);
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && document.contains(opener) && !opener.disabled) opener.focus();
      else if (opts && opts.fallbackFocus && document.contains(opts.fallbackFocus)) opts.fallbackFocus.focus();
    });
    dialog.addEventListener('click', (ev) => { if (ev.target === dialog) close(); });
    document.body.appendChild(dialog);
    dialog.showModal();
    return { dialog, body, close };
  }

  function actionsRow(...buttons) {
    return h('div', { class: 'dialog-actions' }, ...buttons);
  }

  function openArticleDialog(chat) {
    const d = openDialog('Insert an answer', { testid: 'article-dialog', fallbackFocus: chat.el.composer });
    const inputId = uid('article-q');
    const input = h('input', { id: inputId, type: 'search', autocomplete: 'off', testid: 'article-search' });
    const status = h('p', { class: 'muted', role: 'status' });
    const results = h('ul', { class: 'article-results', testid: 'article-results' });
    const form = h('form', { class: 'search-row', role: 'search' },
      h('label', { for: inputId, text: `Search answers (${LANGS[chat.lang] || chat.lang})` }),
      h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'btn btn-secondary', text: 'Search' })));
    append(d.body, [form, status, results]);
    let seq = 0;
    let debounce = null;
    const run = async () => {
      const q = input.value.trim();
      const mySeq = ++seq;
      if (!q) {
        clear(results);
        status.textContent = 'Type a few words, for example “parking” or “insurance”.';
        return;
      }
      status.textContent = 'Searching…';
      const r = await api('GET', `/api/articles?q=${encodeURIComponent(q)}&lang=${encodeURIComponent(chat.lang || 'en')}`);
      if (mySeq !== seq || !d.dialog.open) return;
      clear(results);
      if (!r.ok || !Array.isArray(r.data)) {
        status.textContent = apiMessage(r, 'Searching failed. Try again.');
        return;
      }
      status.textContent = r.data.length ? `${r.data.length} answer${r.data.length === 1 ? '' : 's'} found.` : 'No answers match. Try other words.';
      for (const a of r.data) {
        if (!a || typeof a.text !== 'string') continue;
        const pick = h('button', { type: 'button', class: 'btn btn-primary btn-small', text: 'Insert' });
        pick.setAttribute('aria-label', `Insert “${a.title || a.id}”`);
        pick.addEventListener('click', () => {
          insertIntoComposer(chat, a.text);
          d.close();
          chat.el.composer.focus();
        });
        results.appendChild(h('li', { class: 'article' },
          h('div', { class: 'article-head' },
            h('h3', { text: a.title || a.id || 'Untitled' }),
            pick),
          h('p', { class: 'article-id', text: `${a.id || ''}${a.lang ? ` · ${String(a.lang).toUpperCase()}` : ''}` }),
          h('p', { class: 'article-text', text: truncate(a.text, 400) })));
      }
    };
    input.addEventListener('input', () => {
      window.clearTimeout(debounce);
      debounce = window.setTimeout(run, 250);
    });
    form.addEventListener('submit', (ev) => { ev.preventDefault(); window.clearTimeout(debounce); run(); });
    run();
    input.focus();
  }

  function insertIntoComposer(chat, text) {
    const c = chat.el.composer;
    const start = c.selectionStart ?? c.value.length;
    const end = c.selectionEnd ?? c.value.length;
    const before = c.value.slice(0, start);
    const after = c.value.slice(end);
    const sepBefore = before && !/\s$/.test(before) ? ' ' : '';
    c.value = before + sepBefore + text + after;
    const pos = (before + sepBefore + text).length;
    c.setSelectionRange(pos, pos);
    updateCharCount(chat);
  }

  function openNoteDialog(chat) {
    const d = openDialog('Add an internal note', { testid: 'note-dialog', fallbackFocus: chat.el.composer });
    const id = uid('note');
    const ta = h('textarea', { id, rows: '4', testid: 'note-text', 'aria-describedby': `${id}-hint` });
    const err = h('p', { class: 'form-error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'note-save', text: 'Save note' });
    const form = h('form', null,
      h('label', { for: id, text: 'Note' }),
      h('p', { id: `${id}-hint`, class: 'hint', text: 'Only staff see notes. The patient never does.' }),
      ta, err,
      actionsRow(h('button', { type: 'button', class: 'btn btn-quiet', text: 'Cancel', onclick: d.close }), save));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = ta.value.trim();
      if (!text) { err.textContent = 'Write the note first.'; ta.focus(); return; }
      if (graphemeCount(text) > MAX_TEXT) { err.textContent = `Notes can be at most ${MAX_TEXT} characters.`; return; }
      if (!send({ type: 'note', conversation: chat.id, text })) { err.textContent = 'Not connected. Try again in a moment.'; return; }
      chat.noteInFlight = true;
      d.close();
    });
    d.body.appendChild(form);
    ta.focus();
  }

  async function openTransferDialog(chat) {
    const d = openDialog('Transfer this chat', { testid: 'transfer-dialog', fallbackFocus: chat.el.composer });
    const status = h('p', { class: 'muted', role: 'status', text: 'Loading who is online…' });
    d.body.appendChild(status);
    const r = await api('GET', '/api/agents');
    if (!d.dialog.open) return;
    if (!r.ok || !Array.isArray(r.data)) {
      status.textContent = apiMessage(r, 'Could not load the agent list.');
      return;
    }
    const me = state.me ? state.me.name : '';
    const online = r.data.filter((a) => a && a.name !== me && a.online && a.role !== 'editor');
    online.sort((a, b) => (a.status === 'online' ? 0 : 1) - (b.status === 'online' ? 0 : 1) || String(a.name).localeCompare(String(b.name)));
    if (!online.length) {
      status.textContent = 'No other agent is online right now.';
      d.body.appendChild(actionsRow(h('button', { type: 'button', class: 'btn btn-secondary', text: 'Close', onclick: d.close })));
      return;
    }
    status.textContent = '';
    status.hidden = true;
    const group = uid('transfer');
    const err = h('p', { class: 'form-error', role: 'alert' });
    const fs = h('fieldset', { class: 'choices' }, h('legend', { text: 'Hand the chat to' }));
    online.forEach((a, i) => {
      const id = `${group}-${i}`;
      fs.appendChild(h('div', { class: 'choice' },
        h('input', { type: 'radio', name: group, id, value: a.name, checked: i === 0 }),
        h('label', { for: id }, String(a.name), h('span', { class: 'muted', text: ` — ${ROLES[a.role] || a.role || ''}${a.status === 'away' ? ', away' : ''}` }))));
    });
    const form = h('form', null, fs, err,
      actionsRow(h('button', { type: 'button', class: 'btn btn-quiet', text: 'Cancel', onclick: d.close }),
        h('button', { type: 'submit', class: 'btn btn-primary', testid: 'transfer-confirm', text: 'Transfer' })));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const picked = fs.querySelector('input:checked');
      if (!picked) { err.textContent = 'Pick an agent.'; return; }
      if (!send({ type: 'transfer', conversation: chat.id, to: picked.value })) { err.textContent = 'Not connected. Try again in a moment.'; return; }
      d.close();
    });
    d.body.appendChild(form);
    const first = fs.querySelector('input');
    if (first) first.focus();
  }

  function openReturnDialog(chat) {
    const d = openDialog('Return this chat to the bot?', { testid: 'return-dialog', fallbackFocus: chat.el.composer });
    const ok = h('button', { type: 'button', class: 'btn btn-primary', testid: 'return-confirm', text: 'Return to bot' });
    ok.addEventListener('click', () => {
      if (!send({ type: 'return_to_bot', conversation: chat.id })) { toast('Not connected. Try again in a moment.', 'error'); return; }
      d.close();
    });
    append(d.body, [
      h('p', { text: 'The bot will answer the patient\'s next messages again. The chat leaves your list.' }),
      actionsRow(h('button', { type: 'button', class: 'btn btn-quiet', text: 'Cancel', onclick: d.close }), ok)]);
    ok.focus();
  }

  function openResolveDialog(chat) {
    const d = openDialog('Resolve this chat', { testid: 'resolve-dialog', fallbackFocus: chat.el.composer });
    const group = uid('disp');
    const otherId = `${group}-other-text`;
    const other = h('input', { type: 'text', id: otherId, maxlength: '100', hidden: true, testid: 'disposition-other' });
    const otherLabel = h('label', { for: otherId, class: 'other-label', hidden: true, text: 'Describe the outcome' });
    const err = h('p', { class: 'form-error', role: 'alert' });
    const fs = h('fieldset', { class: 'choices' }, h('legend', { text: 'How did it end?' }));
    DISPOSITIONS.forEach((opt, i) => {
      const id = `${group}-${i}`;
      const r = h('input', { type: 'radio', name: group, id, value: opt.value, checked: i === 0, testid: `disposition-${opt.value}` });
      fs.appendChild(h('div', { class: 'choice' }, r, h('label', { for: id, text: opt.label })));
    });
    // "Other" reveals a free-text field for the outcome.
    fs.addEventListener('change', (ev) => {
      if (ev.target === other) return;
      const v = (fs.querySelector('input[type=radio]:checked') || {}).value;
      other.hidden = v !== 'other';
      otherLabel.hidden = v !== 'other';
    });
    fs.appendChild(h('div', { class: 'other' }, otherLabel, other));
    const form = h('form', null, fs, err,
      actionsRow(h('button', { type: 'button', class: 'btn btn-quiet', text: 'Cancel', onclick: d.close }),
        h('button', { type: 'submit', class: 'btn btn-primary', testid: 'resolve-confirm', text: 'Resolve chat' })));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = (fs.querySelector('input[type=radio]:checked') || {}).value || 'answered';
      let disposition = v;
      if (v === 'other') {
        disposition = other.value.trim();
        if (!disposition) { err.textContent = 'Describe the outcome in a few words.'; other.focus(); return; }
        disposition = Array.from(disposition).slice(0, 100).join('');
      }
      if (!send({ type: 'resolve', conversation: chat.id, disposition })) { err.textContent = 'Not connected. Try again in a moment.'; return; }
      d.close();
    });
    d.body.appendChild(form);
    fs.querySelector('input').focus();
  }

  // ---------------------------------------------------------------- callbacks

  function buildCallbacksView() {
    ui.callbacksHeading = h('h2', { id: 'callbacks-heading', tabindex: '-1', text: 'Callback requests' });
    ui.callbacksStatus = h('p', { class: 'muted', role: 'status' });
    ui.callbacksList = h('ul', { class: 'callbacks-list', testid: 'callbacks-list', 'aria-labelledby': 'callbacks-heading' });
    const showDoneId = uid('show-done');
    const showDone = h('input', { type: 'checkbox', id: showDoneId });
    showDone.addEventListener('change', () => { state.showDoneCallbacks = showDone.checked; loadCallbacks(); });
    const refresh = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'callbacks-refresh', text: 'Refresh', onclick: () => loadCallbacks(true) });
    return h('section', { class: 'view view-callbacks', 'aria-labelledby': 'callbacks-heading' },
      h('div', { class: 'view-head' }, ui.callbacksHeading,
        h('div', { class: 'view-tools' },
          h('span', { class: 'check' }, showDone, h('label', { for: showDoneId, text: 'Show done' })),
          refresh)),
      h('p', { class: 'muted', text: 'Patients who asked to be called or written back. The list refreshes every 30 seconds.' }),
      ui.callbacksStatus,
      ui.callbacksList);
  }

  let callbacksLoading = false;
  async function loadCallbacks(announceDone) {
    if (!ui.callbacksList || callbacksLoading) return;
    callbacksLoading = true;
    const r = await api('GET', `/api/callbacks${state.showDoneCallbacks ? '?all=true' : ''}`);
    callbacksLoading = false;
    if (!ui.callbacksList) return;
    if (!r.ok || !Array.isArray(r.data)) {
      ui.callbacksStatus.textContent = r.status === 403 ? 'Your account cannot see callback requests.' : apiMessage(r, 'Could not load callback requests.');
      return;
    }
    state.callbacks = r.data.filter((c) => c && c.id !== undefined);
    renderCallbacks();
    const open = state.callbacks.filter((c) => !c.done).length;
    ui.callbacksStatus.textContent = announceDone ? `Updated. ${open} open request${open === 1 ? '' : 's'}.` : '';
  }

  function renderCallbacks() {
    const list = ui.callbacksList;
    const focusedId = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.getAttribute('data-callback') : null;
    clear(list);
    const open = state.callbacks.filter((c) => !c.done).length;
    setCount(ui.callbacksCount, open, 'open');
    if (!state.callbacks.length) {
      list.appendChild(h('li', { class: 'empty', text: 'No callback requests.' }));
      return;
    }
    for (const c of state.callbacks) {
      const dl = h('dl', { class: 'facts' });
      const fact = (t, v) => { if (v) append(dl, [h('dt', { text: t }), h('dd', null, v)]); };
      fact('Channel', CHANNELS[c.channel] || (c.channel ? String(c.channel) : ''));
      fact('Contact', c.contact ? h('span', { class: 'contact', text: String(c.contact) }) : '');
      fact('Preferred time', c.window ? String(c.window) : 'Any time');
      fact('Requested', c.created_at ? timeEl(c.created_at) || String(c.created_at) : '');
      if (c.conversation) fact('Chat', shortId(c.conversation));
      const done = c.done
        ? h('p', { class: 'done-label', text: 'Done' })
        : h('button', {
          type: 'button', class: 'btn btn-primary btn-small', testid: 'callback-done', 'data-callback': String(c.id), text: 'Done',
          'aria-label': `Mark callback for ${c.name || 'patient'} done`,
        });
      if (!c.done) done.addEventListener('click', () => markCallbackDone(c, done));
      list.appendChild(h('li', { class: `callback${c.done ? ' is-done' : ''}`, testid: 'callback-item' },
        h('div', { class: 'callback-head' }, h('h3', { text: c.name ? String(c.name) : 'Unnamed patient' }), done),
        dl));
    }
    if (focusedId) {
      const again = list.querySelector(`[data-callback="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
      else ui.callbacksHeading.focus();
    }
  }

  async function markCallbackDone(c, btn) {
    btn.disabled = true;
    btn.textContent = 'Saving…';
    const r = await api('POST', `/api/callbacks/${encodeURIComponent(c.id)}/done`);
    if (r.ok) {
      toast(`Callback for ${c.name || 'the patient'} marked done.`);
      ui.callbacksHeading.focus();
      loadCallbacks();
    } else {
      btn.disabled = false;
      btn.textContent = 'Done';
      toast(apiMessage(r, 'Could not mark the callback done.'), 'error');
    }
  }

  // ---------------------------------------------------------------- past chats

  function buildHistoryView() {
    ui.historyHeading = h('h2', { id: 'history-heading', tabindex: '-1', text: 'Past chats' });
    ui.historyStatus = h('p', { class: 'muted', role: 'status' });
    ui.historyList = h('ul', { class: 'history-list', testid: 'history-list', 'aria-labelledby': 'history-heading' });
    ui.historyDetail = h('section', { class: 'history-detail', testid: 'history-transcript', 'aria-label': 'Past chat transcript', tabindex: '-1' },
      h('p', { class: 'muted', text: 'Pick a chat to read its transcript.' }));
    const refresh = h('button', { type: 'button', class: 'btn btn-secondary btn-small', text: 'Refresh', onclick: () => loadHistory() });
    return h('section', { class: 'view view-history', 'aria-labelledby': 'history-heading' },
      h('div', { class: 'view-head' }, ui.historyHeading, h('div', { class: 'view-tools' }, refresh)),
      h('div', { class: 'history-grid' },
        h('div', { class: 'history-col' }, ui.historyStatus, ui.historyList),
        ui.historyDetail));
  }

  async function loadHistory() {
    if (!ui.historyList) return;
    ui.historyStatus.textContent = 'Loading…';
    const r = await api('GET', '/api/conversations');
    if (!ui.historyList) return;
    if (!r.ok || !Array.isArray(r.data)) {
      ui.historyStatus.textContent = r.status === 403 ? 'Your account cannot see past chats.' : apiMessage(r, 'Could not load past chats.');
      return;
    }
    clear(ui.historyList);
    ui.historyStatus.textContent = r.data.length ? '' : 'No past chats yet.';
    for (const c of r.data) {
      if (!c || typeof c.conversation !== 'string') continue;
      const line2 = [
        c.handoff ? reasonLabel(c.reason) : 'Bot only',
        c.agent ? `Agent ${c.agent}` : null,
        c.disposition ? dispositionLabel(c.disposition) : null,
        c.lang ? String(c.lang).toUpperCase() : null,
      ].filter(Boolean).join(' · ');
      const btn = h('button', { type: 'button', class: 'history-btn', testid: 'history-item', 'data-conversation': c.conversation },
        h('span', { class: 'tab-title' }, `Chat ${shortId(c.conversation)} `, h('span', { class: 'muted', text: fmtDateTime(c.started_at) })),
        h('span', { class: 'tab-sub', text: line2 }));
      btn.addEventListener('click', () => openPastChat(c.conversation, btn));
      ui.historyList.appendChild(h('li', null, btn));
    }
  }

  async function openPastChat(id, btn) {
    for (const b of ui.historyList.querySelectorAll('.history-btn')) b.removeAttribute('aria-current');
    btn.setAttribute('aria-current', 'true');
    const box = ui.historyDetail;
    clear(box);
    box.appendChild(h('p', { class: 'muted', role: 'status', text: 'Loading the transcript…' }));
    const r = await api('GET', `/api/conversations/${encodeURIComponent(id)}`);
    clear(box);
    if (r.status === 403) {
      box.appendChild(h('p', { class: 'notice', role: 'alert', text: 'You don\'t have access to this chat.' }));
      return;
    }
    if (r.status === 404) {
      box.appendChild(h('p', { class: 'notice', role: 'alert', text: 'This chat no longer exists.' }));
      return;
    }
    if (!r.ok || !r.data) {
      box.appendChild(h('p', { class: 'notice', role: 'alert', text: apiMessage(r, 'Could not load the transcript.') }));
      return;
    }
    const c = r.data;
    const dl = h('dl', { class: 'facts' });
    const fact = (t, v) => { if (v) append(dl, [h('dt', { text: t }), h('dd', { text: v })]); };
    fact('Language', LANGS[c.lang] || (c.lang ? String(c.lang) : ''));
    fact('Handed over', c.handoff ? `Yes — ${reasonLabel(c.reason)}` : 'No');
    fact('Agent', c.agent ? String(c.agent) : '');
    fact('Outcome', dispositionLabel(c.disposition));
    const list = h('ol', { class: 'messages messages-static', 'aria-label': 'Transcript' });
    const msgs = (Array.isArray(c.history) ? c.history : []).filter((m) => m && typeof m === 'object')
      .sort((a, b) => Number(a.seq) - Number(b.seq));
    const notes = (Array.isArray(c.notes) ? c.notes : []).filter((n) => n && typeof n.text === 'string');
    const temp = { messages: new Map(), notes, mine: new Set(), pending: new Map() };
    for (const m of msgs) addHistoryMessage(temp, m);
    temp.el = { messages: list };
    renderMessages(temp);
    append(box, [
      h('h3', { class: 'detail-title', text: `Chat ${shortId(c.conversation || id)}` }),
      dl,
      h('p', { class: 'muted small', text: 'Read-only transcript.' }),
      list]);
    box.focus();
  }

  // ---------------------------------------------------------------- appointments

  const CONTACTS = [
    { value: 'phone', label: 'Phone call' },
    { value: 'text', label: 'Text message' },
    { value: 'email', label: 'Email' },
  ];
  const CONTACT_LABELS = { phone: 'Phone call', text: 'Text message', email: 'Email' };
  const SLOT_DAYS = 7;

  // Times come as RFC 3339 with the clinic's offset: show that wall clock
  // (the clinic's local time), whatever the browser's own time zone is.
  const clinicDayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC' });
  const clinicTimeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit', timeZone: 'UTC' });
  const clinicWhenFmt = new Intl.DateTimeFormat(undefined, {
    weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: 'UTC',
  });

  /** The wall-clock parts of an RFC 3339 time, as a Date in UTC, or null. */
  function clinicClock(s) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(String(s || ''));
    if (!m) return null;
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5])));
  }

  function clinicWhen(s) {
    const d = clinicClock(s);
    return d ? clinicWhenFmt.format(d) : String(s || '');
  }

  function clinicWhenEl(s) {
    return h('time', { datetime: String(s || ''), text: clinicWhen(s) });
  }

  function isoDay(d) {
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  }

  function addDays(day, n) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
    if (!m) return day;
    const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + n);
    return isoDay(d);
  }

  /** A labelled form field with an inline error line tied to the control. */
  function field(label, control, hint) {
    const errId = uid('err');
    const hintId = hint ? uid('hint') : null;
    const err = h('p', { id: errId, class: 'field-error' });
    control.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
    const wrap = h('div', { class: 'field' },
      h('label', { for: control.id, text: label }),
      hint ? h('p', { id: hintId, class: 'hint', text: hint }) : null,
      control, err);
    return { wrap, control, err };
  }

  function setFieldError(f, text) {
    f.err.textContent = text || '';
    if (text) f.control.setAttribute('aria-invalid', 'true');
    else f.control.removeAttribute('aria-invalid');
  }

  function buildAppointmentsView() {
    const a = { types: [], typesLoaded: false, slot: null, from: '', slotsSeq: 0 };
    const headingId = 'appointments-heading';
    ui.apptsHeading = h('h2', { id: headingId, tabindex: '-1', text: 'Appointments' });

    // --- find by code
    const findInput = h('input', {
      id: uid('find-code'), type: 'text', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false',
      maxlength: '40', testid: 'find-code',
    });
    const findField = field('Confirmation code', findInput);
    const findResult = h('div', { class: 'appt-result', testid: 'find-result', 'aria-live': 'polite' });
    const findForm = h('form', { class: 'appt-form find-form', novalidate: true, 'aria-labelledby': 'find-heading' },
      h('div', { class: 'row' }, findField.wrap,
        h('button', { type: 'submit', class: 'btn btn-secondary', testid: 'find-submit', text: 'Find' })));
    findForm.addEventListener('submit', (ev) => { ev.preventDefault(); findByCode(); });

    async function findByCode() {
      const code = findInput.value.trim();
      setFieldError(findField, '');
      clear(findResult);
      if (!code) {
        setFieldError(findField, 'Enter a confirmation code.');
        findInput.focus();
        return;
      }
      findResult.appendChild(h('p', { class: 'muted', text: 'Looking it up…' }));
      const r = await api('GET', `/api/appointments/${encodeURIComponent(code)}`);
      clear(findResult);
      if (r.status === 404) {
        findResult.appendChild(h('p', { class: 'notice', text: 'No appointment with that code' }));
        return;
      }
      if (!r.ok || !r.data) {
        findResult.appendChild(h('p', { class: 'form-error', text: apiMessage(r, 'Could not look up the appointment.') }));
        return;
      }
      findResult.appendChild(appointmentCard(r.data));
    }

    function appointmentCard(ap) {
      const dl = h('dl', { class: 'facts' });
      const fact = (t, v) => { if (v) append(dl, [h('dt', { text: t }), h('dd', null, v)]); };
      fact('Status', ap.booked ? 'Booked' : 'Cancelled');
      fact('When', clinicWhenEl(ap.start));
      fact('Type', typeName(ap.type_id));
      fact('Provider', providerName(ap.provider));
      fact('Location', ap.location ? String(ap.location) : '');
      fact('Patient', ap.name ? String(ap.name) : '');
      fact('Date of birth', ap.dob ? String(ap.dob) : '');
      fact('Contact by', CONTACT_LABELS[ap.contact] || (ap.contact ? String(ap.contact) : ''));
      fact('Phone', ap.phone ? String(ap.phone) : '');
      fact('Email', ap.email ? String(ap.email) : '');
      const head = h('div', { class: 'callback-head' },
        h('h4', null, 'Code ', h('span', { class: 'code', testid: 'found-code', text: String(ap.code || '') })),
        ap.booked ? cancelButton(ap) : h('p', { class: 'cancelled-label', testid: 'found-status', text: 'Cancelled' }));
      return h('div', { class: `appt-card${ap.booked ? '' : ' is-cancelled'}`, 'data-code': String(ap.code || '') }, head, dl);
    }

    // --- cancel (with a confirm step)
    function cancelButton(ap) {
      const b = h('button', {
        type: 'button', class: 'btn btn-quiet btn-small', testid: 'appointment-cancel', text: 'Cancel',
        'aria-label': `Cancel appointment ${ap.code} for ${ap.name || 'the patient'}`,
      });
      b.addEventListener('click', () => confirmCancel(ap));
      return b;
    }

    function confirmCancel(ap) {
      const d = openDialog('Cancel this appointment?', { testid: 'appointment-cancel-dialog', fallbackFocus: ui.apptsHeading });
      const err = h('p', { class: 'form-error', role: 'alert' });
      const ok = h('button', { type: 'button', class: 'btn btn-primary', testid: 'appointment-cancel-confirm', text: 'Cancel appointment' });
      ok.addEventListener('click', async () => {
        ok.disabled = true;
        ok.textContent = 'Cancelling…';
        const r = await api('DELETE', `/api/appointments/${encodeURIComponent(ap.code)}`);
        if (r.ok || r.status === 404) {
          d.close();
          const msg = r.ok ? `Appointment ${ap.code} cancelled.` : `Appointment ${ap.code} was already cancelled.`;
          toast(msg);
          announce(msg);
          loadUpcoming();
          if (findResult.querySelector(`[data-code="${CSS.escape(String(ap.code))}"]`)) {
            findInput.value = String(ap.code);
            findByCode();
          }
          return;
        }
        ok.disabled = false;
        ok.textContent = 'Cancel appointment';
        err.textContent = apiMessage(r, 'Could not cancel the appointment.');
      });
      append(d.body, [
        h('p', null, `${ap.name || 'The patient'} — ${typeName(ap.type_id)} with ${providerName(ap.provider)}, `,
          clinicWhenEl(ap.start), `. Code ${ap.code}.`),
        h('p', { class: 'muted', text: 'The time becomes free for others. The patient is not told automatically.' }),
        err,
        actionsRow(h('button', { type: 'button', class: 'btn btn-quiet', text: 'Keep it', onclick: d.close }), ok)]);
      ok.focus();
    }

    // --- upcoming list
    const upStatus = h('p', { class: 'muted', role: 'status' });
    const upBody = h('tbody', { testid: 'appointments-list' });
    const upTable = h('table', { class: 'appt-table', hidden: true },
      h('caption', { class: 'visually-hidden', text: 'Upcoming booked appointments, soonest first' }),
      h('thead', null, h('tr', null, ...['Start (clinic time)', 'Type', 'Provider', 'Location', 'Patient', 'Code', 'Actions']
        .map((t) => h('th', { scope: 'col', text: t })))),
      upBody);
    const refresh = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'appointments-refresh', text: 'Refresh', onclick: () => loadUpcoming(true) });

    let upSeq = 0;
    async function loadUpcoming(announceDone) {
      const mine = ++upSeq;
      await loadTypes();
      const r = await api('GET', '/api/appointments');
      if (mine !== upSeq) return;
      if (!r.ok || !Array.isArray(r.data)) {
        upStatus.textContent = r.status === 403 ? 'Your account cannot see appointments.' : apiMessage(r, 'Could not load appointments.');
        return;
      }
      clear(upBody);
      const list = r.data.filter((x) => x && x.code && x.booked !== false);
      upTable.hidden = !list.length;
      for (const ap of list) {
        upBody.appendChild(h('tr', { testid: 'appointment-item', 'data-code': String(ap.code) },
          h('td', null, clinicWhenEl(ap.start)),
          h('td', { text: typeName(ap.type_id) }),
          h('td', { text: providerName(ap.provider) }),
          h('td', { text: String(ap.location || '') }),
          h('td', { text: String(ap.name || '') }),
          h('td', null, h('span', { class: 'code', text: String(ap.code) })),
          h('td', null, cancelButton(ap))));
      }
      const n = list.length;
      upStatus.textContent = n ? (announceDone ? `Updated. ${n} upcoming appointment${n === 1 ? '' : 's'}.` : '')
        : 'No upcoming appointments.';
    }

    // --- types and providers
    function typeName(id) {
      const t = a.types.find((x) => x.id === id);
      return t ? String(t.name) : String(id || '');
    }

    function providerName(id) {
      for (const t of a.types) {
        const p = (t.providers || []).find((x) => x && x.id === id);
        if (p) return String(p.name);
      }
      return String(id || '');
    }

    let typesPromise = null;
    function loadTypes() {
      if (a.typesLoaded) return Promise.resolve();
      if (!typesPromise) {
        typesPromise = api('GET', '/api/appointment-types').then((r) => {
          typesPromise = null;
          if (!r.ok || !Array.isArray(r.data)) {
            slotStatus.textContent = apiMessage(r, 'Could not load the appointment types.');
            return;
          }
          a.types = r.data.filter((t) => t && typeof t.id === 'string');
          a.typesLoaded = true;
          clear(typeSelect);
          typeSelect.appendChild(h('option', { value: '', text: 'Choose a type…' }));
          for (const t of a.types) {
            typeSelect.appendChild(h('option', { value: t.id, text: `${t.name} (${t.duration_min} min)${t.new_patients_only ? ' — new patients only' : ''}` }));
          }
          fillProviders();
        });
      }
      return typesPromise;
    }

    function fillProviders() {
      const t = a.types.find((x) => x.id === typeSelect.value);
      clear(providerSelect);
      providerSelect.appendChild(h('option', { value: '', text: 'Any provider' }));
      for (const p of (t && t.providers) || []) providerSelect.appendChild(h('option', { value: p.id, text: p.name }));
      providerSelect.disabled = !t;
    }

    // --- book: type, provider, date -> open slots
    const typeSelect = h('select', { id: uid('book-type'), testid: 'book-type' }, h('option', { value: '', text: 'Loading…' }));
    const providerSelect = h('select', { id: uid('book-provider'), testid: 'book-provider', disabled: true }, h('option', { value: '', text: 'Any provider' }));
    const fromInput = h('input', { id: uid('book-from'), type: 'date', testid: 'book-from', value: isoDay(new Date()) });
    const typeField = field('Appointment type', typeSelect);
    const providerField = field('Provider (optional)', providerSelect);
    const fromField = field('From date', fromInput, `Shows ${SLOT_DAYS} days of open times`);
    // Times listed for another type or provider would mislead: drop them.
    const dropSlots = () => {
      a.slotsSeq += 1;
      selectSlot(null);
      clear(slotList);
      slotStatus.textContent = '';
      later.hidden = true;
    };
    typeSelect.addEventListener('change', () => { fillProviders(); setFieldError(typeField, ''); dropSlots(); });
    providerSelect.addEventListener('change', dropSlots);

    const slotStatus = h('p', { class: 'slot-status', role: 'status', testid: 'slot-status' });
    const slotList = h('div', { class: 'slot-list', testid: 'slot-list' });
    const later = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'slots-later', text: 'Later times', hidden: true });
    later.addEventListener('click', () => {
      fromInput.value = addDays(a.from || fromInput.value, SLOT_DAYS);
      findSlots();
    });
    const slotsForm = h('form', { class: 'appt-form slots-form', novalidate: true, 'aria-label': 'Find open times' },
      h('div', { class: 'row' }, typeField.wrap, providerField.wrap, fromField.wrap),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn btn-secondary', testid: 'slots-find', text: 'Show open times' })));
    slotsForm.addEventListener('submit', (ev) => { ev.preventDefault(); findSlots(); });

    async function findSlots() {
      setFieldError(typeField, '');
      setFieldError(fromField, '');
      if (!typeSelect.value) {
        setFieldError(typeField, 'Choose an appointment type.');
        typeSelect.focus();
        return;
      }
      const from = fromInput.value;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(from)) {
        setFieldError(fromField, 'Enter a start date.');
        fromInput.focus();
        return;
      }
      const mine = ++a.slotsSeq;
      a.from = from;
      a.slotsType = typeSelect.value;
      selectSlot(null);
      clear(slotList);
      later.hidden = true;
      slotStatus.textContent = 'Looking for open times…';
      const q = new URLSearchParams({ type: typeSelect.value, from, days: String(SLOT_DAYS) });
      if (providerSelect.value) q.set('provider', providerSelect.value);
      const r = await api('GET', `/api/slots?${q}`);
      if (mine !== a.slotsSeq) return;
      if (!r.ok || !Array.isArray(r.data)) {
        slotStatus.textContent = '';
        setFieldError(r.status === 400 ? fromField : typeField, apiMessage(r, 'Could not load open times.'));
        return;
      }
      showSlots(r.data, r.data.length
        ? `${r.data.length} open time${r.data.length === 1 ? '' : 's'} from ${from}. Pick one.`
        : `No open times in the ${SLOT_DAYS} days from ${from}. Try later times.`);
      later.hidden = false;
    }

    /** Lists slots as buttons, grouped by the clinic's day. */
    function showSlots(slots, statusText) {
      clear(slotList);
      slotStatus.textContent = statusText;
      let day = null;
      let ul = null;
      for (const s of slots) {
        if (!s || typeof s.id !== 'string') continue;
        const clock = clinicClock(s.start);
        const dayKey = String(s.start).slice(0, 10);
        if (dayKey !== day) {
          day = dayKey;
          const hid = uid('slot-day');
          ul = h('ul', { class: 'slot-day', 'aria-labelledby': hid });
          append(slotList, [h('h4', { id: hid, text: clock ? clinicDayFmt.format(clock) : dayKey }), ul]);
        }
        const time = clock ? clinicTimeFmt.format(clock) : String(s.start);
        const who = providerName(s.provider);
        const b = h('button', { type: 'button', class: 'slot-btn', testid: 'slot-button', 'data-slot': s.id, 'aria-pressed': 'false' },
          h('span', { class: 'slot-time' }, hiddenText(`${clock ? clinicDayFmt.format(clock) : dayKey}, `), time),
          h('span', { class: 'slot-who' }, hiddenText('with '), who));
        b.addEventListener('click', () => selectSlot(s, b));
        ul.appendChild(h('li', null, b));
      }
    }

    const chosen = h('p', { class: 'chosen', testid: 'slot-chosen', 'aria-live': 'polite', text: 'No time picked yet.' });
    function selectSlot(s, btn) {
      a.slot = s;
      for (const b of slotList.querySelectorAll('.slot-btn')) b.setAttribute('aria-pressed', String(b === btn));
      clear(chosen);
      if (s) {
        append(chosen, ['Picked: ', h('strong', null, clinicWhenEl(s.start)), ` with ${providerName(s.provider)} (${typeName(a.slotsType)})`]);
        setErr(slotErr, '');
      } else {
        chosen.textContent = 'No time picked yet.';
      }
    }

    // --- patient details
    const pName = h('input', { id: uid('p-name'), type: 'text', autocomplete: 'off', maxlength: '120', testid: 'patient-name' });
    const pDob = h('input', { id: uid('p-dob'), type: 'date', testid: 'patient-dob', max: isoDay(new Date()), min: '1900-01-01' });
    const pPhone = h('input', { id: uid('p-phone'), type: 'tel', autocomplete: 'off', testid: 'patient-phone' });
    const pEmail = h('input', { id: uid('p-email'), type: 'email', autocomplete: 'off', testid: 'patient-email' });
    const fName = field('Patient name', pName);
    const fDob = field('Date of birth', pDob);
    const fPhone = field('Phone', pPhone, 'Needed for a phone call or text');
    const fEmail = field('Email', pEmail, 'Needed for contact by email');
    const contactName = uid('contact');
    const contactErrId = uid('err');
    const contactErr = h('p', { id: contactErrId, class: 'field-error' });
    const contactSet = h('fieldset', { class: 'choices contact-choices', 'aria-describedby': contactErrId },
      h('legend', { text: 'Contact the patient by' }));
    CONTACTS.forEach((c, i) => {
      const id = `${contactName}-${c.value}`;
      contactSet.appendChild(h('span', { class: 'choice' },
        h('input', { type: 'radio', name: contactName, id, value: c.value, checked: i === 0, testid: `contact-${c.value}` }),
        h('label', { for: id, text: c.label })));
    });
    contactSet.appendChild(contactErr);
    const contactField = { control: contactSet, err: contactErr };
    const slotErr = { control: slotList, err: h('p', { class: 'field-error', testid: 'slot-error' }) };
    function setErr(f, text) {
      if (f === slotErr || f === contactField) f.err.textContent = text || '';
      else setFieldError(f, text);
    }

    const bookError = h('p', { class: 'form-error', role: 'alert', testid: 'book-error' });
    const bookResult = h('div', { class: 'appt-result', testid: 'book-result', 'aria-live': 'polite' });
    const bookSubmit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'book-submit', text: 'Book appointment' });
    const patientForm = h('form', { class: 'appt-form patient-form', novalidate: true, 'aria-label': 'Patient details' },
      h('div', { class: 'row' }, fName.wrap, fDob.wrap),
      h('div', { class: 'row' }, fPhone.wrap, fEmail.wrap),
      contactSet,
      chosen, slotErr.err,
      bookError,
      h('div', { class: 'row' }, bookSubmit));
    patientForm.addEventListener('submit', (ev) => { ev.preventDefault(); book(); });

    const allFields = [fName, fDob, fPhone, fEmail, contactField, slotErr];

    /** Puts a 400 message next to the field it is about. */
    function fieldForMessage(msg) {
      const m = String(msg || '');
      if (/patient\.name/.test(m)) return [fName, 'Enter the patient\'s name (up to 120 characters, with letters).'];
      if (/patient\.dob must be a past/.test(m)) return [fDob, 'The date of birth must be a real date in the past.'];
      if (/patient\.dob/.test(m)) return [fDob, 'Enter a complete date of birth (year, month and day).'];
      if (/needs patient\.phone/.test(m)) return [fPhone, 'A phone number is needed to call or text the patient.'];
      if (/patient\.phone/.test(m)) return [fPhone, 'That is not a phone number. Check the digits.'];
      if (/needs patient\.email/.test(m)) return [fEmail, 'An email address is needed to contact the patient by email.'];
      if (/patient\.email/.test(m)) return [fEmail, 'That is not an email address.'];
      if (/patient\.contact/.test(m)) return [contactField, 'Choose phone call, text message or email.'];
      if (/slot/.test(m)) return [slotErr, 'Pick a time again: that one is not valid any more.'];
      return null;
    }

    function focusField(f) {
      if (f === contactField) {
        const r = contactSet.querySelector('input:checked') || contactSet.querySelector('input');
        if (r) r.focus();
      } else if (f === slotErr) {
        const b = slotList.querySelector('.slot-btn') || typeSelect;
        b.focus();
      } else {
        f.control.focus();
      }
    }

    let booking = false;
    async function book() {
      if (booking) return;
      for (const f of allFields) setErr(f, '');
      bookError.textContent = '';
      const contact = (contactSet.querySelector('input:checked') || {}).value || '';
      const name = pName.value.trim();
      const dob = pDob.value;
      const phone = pPhone.value.trim();
      const email = pEmail.value.trim();
      const problems = [];
      if (!a.slot) problems.push([slotErr, 'Pick an open time first (Show open times, then a time).']);
      if (!name) problems.push([fName, 'Enter the patient\'s name.']);
      if (!dob) problems.push([fDob, pDob.validity && pDob.validity.badInput ? 'Enter a complete date of birth.' : 'Enter the date of birth.']);
      if ((contact === 'phone' || contact === 'text') && !phone) problems.push([fPhone, 'A phone number is needed to call or text the patient.']);
      if (contact === 'email' && !email) problems.push([fEmail, 'An email address is needed to contact the patient by email.']);
      if (problems.length) {
        for (const [f, t] of problems) setErr(f, t);
        bookError.textContent = problems.length === 1 ? 'Check the highlighted field.' : `Check the ${problems.length} highlighted fields.`;
        focusField(problems[0][0]);
        return;
      }
      const patient = { name, dob, contact };
      if (phone) patient.phone = phone;
      if (email) patient.email = email;
      booking = true;
      bookSubmit.disabled = true;
      bookSubmit.textContent = 'Booking…';
      const r = await api('POST', '/api/appointments', { slot: a.slot.id, patient });
      booking = false;
      bookSubmit.disabled = false;
      bookSubmit.textContent = 'Book appointment';
      if (r.status === 201 && r.data && r.data.code) {
        showBooked(r.data, name, a.slotsType);
        for (const el of [pName, pDob, pPhone, pEmail]) el.value = '';
        selectSlot(null);
        clear(slotList);
        slotStatus.textContent = '';
        later.hidden = true;
        loadUpcoming();
        return;
      }
      if (r.status === 409) {
        const alts = r.data && Array.isArray(r.data.alternatives) ? r.data.alternatives : [];
        selectSlot(null);
        const msg = 'That time was just taken';
        bookError.textContent = alts.length ? `${msg}. Pick one of the open times listed.` : `${msg}, and no other times are open soon. Try a later date.`;
        showSlots(alts, alts.length ? `Open times now: ${alts.length}.` : '');
        loadUpcoming();
        later.hidden = true;
        const first = slotList.querySelector('.slot-btn');
        if (first) first.focus();
        return;
      }
      if (r.status === 400) {
        const hit = fieldForMessage(r.data && r.data.message);
        if (hit) {
          setErr(hit[0], hit[1]);
          bookError.textContent = 'Check the highlighted field.';
          focusField(hit[0]);
        } else {
          bookError.textContent = apiMessage(r, 'The details were not accepted.');
        }
        return;
      }
      bookError.textContent = r.status === 403 ? 'Your account cannot book appointments.' : apiMessage(r, 'Booking failed. Please try again.');
    }

    function showBooked(data, name, typeId) {
      clear(bookResult);
      const s = data.slot || {};
      const link = typeof data.calendar === 'string' && data.calendar.startsWith('/calendar/')
        ? h('a', { href: data.calendar, testid: 'calendar-link', download: 'appointment.ics', text: 'Calendar file (.ics) for the patient' })
        : null;
      append(bookResult, [h('div', { class: 'booked' },
        h('h4', { text: 'Booked' }),
        h('p', { class: 'code-line' }, 'Confirmation code ', h('strong', { class: 'code code-big', testid: 'confirmation-code', text: String(data.code) })),
        h('p', null, `${name} — ${typeName(typeId)} with ${providerName(s.provider)}, `,
          clinicWhenEl(s.start), s.location ? ` at ${s.location}.` : '.'),
        link ? h('p', null, link) : null,
        h('p', { class: 'muted small', text: 'Give the patient this code: it is needed to cancel or change the appointment.' }))]);
    }

    const view = h('section', { class: 'view view-appointments', 'aria-labelledby': headingId, testid: 'appointments-view' },
      h('div', { class: 'view-head' }, ui.apptsHeading),
      h('p', { class: 'muted', text: 'Times are the clinic\'s local time.' }),
      h('div', { class: 'appts-grid' },
        h('section', { class: 'panel-card book-card', 'aria-labelledby': 'book-heading' },
          h('h3', { id: 'book-heading', text: 'Book for a patient' }),
          slotsForm, slotStatus, slotList, h('div', { class: 'row' }, later),
          patientForm, bookResult),
        h('section', { class: 'panel-card find-card', 'aria-labelledby': 'find-heading' },
          h('h3', { id: 'find-heading', text: 'Find by confirmation code' }),
          findForm, findResult)),
      h('section', { class: 'panel-card upcoming-card', 'aria-labelledby': 'upcoming-heading' },
        h('div', { class: 'view-head' }, h('h3', { id: 'upcoming-heading', text: 'Upcoming appointments' }),
          h('div', { class: 'view-tools' }, refresh)),
        upStatus, upTable));

    ui.loadAppointments = () => { loadUpcoming(); };
    return view;
  }

  // ---------------------------------------------------------------- debug hook

  window.FrontdeskConsole = Object.freeze({
    version: VERSION,
    snapshot() {
      return JSON.parse(JSON.stringify({
        screen: state.screen,
        me: state.me,
        status: state.status,
        connection: state.connection,
        view: state.view,
        selected: state.selected,
        queue: state.queue.map(({ t0, ...rest }) => rest), // eslint-disable-line no-unused-vars
        chats: Array.from(state.chats.values()).map((c) => ({
          id: c.id, lang: c.lang, reason: c.reason, closed: c.closed, why: c.why, unread: c.unread,
          messages: Array.from(c.messages.values()),
          pending: Array.from(c.pending.values()),
          notes: c.notes,
        })),
      }));
    },
    reconnect() { reconnectNow(); },
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
