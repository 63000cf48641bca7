/*
 * The console shell: top bar, sections, status toggle, banners.
 */
import { append, clear, h, hiddenText, uid } from './dom.js';
import { intervals, session, state, STATUS_KEY, ui } from './state.js';
import { ROLES } from './format.js';
import { toast } from './announce.js';
import { connect, reconnectNow, send } from './socket.js';
import { markRead, renderChatList } from './chatlist.js';
import { buildChatsView, renderQueue, tick } from './queue.js';
import { buildCallbacksView, loadCallbacks } from './callbacks.js';
import { buildHistoryView, loadHistory } from './history.js';
import { buildAppointmentsView } from './appointments.js';
import { buildOutboxView, loadOutbox } from './outbox.js';
import { root, setScreen, signOut, teardown } from './screens.js';

const CALLBACK_REFRESH_MS = 30000;
const OUTBOX_REFRESH_MS = 60000;

export function enterConsole(me) {
  teardown();
  state.me = { name: String(me.name), role: String(me.role) };
  if (session.stash && session.stash.name !== state.me.name) session.stash = null;
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
        h('h2', { class: 'card-title', text: 'The editors\' workspace' }),
        h('p', { text: 'Your account is an editor account. Change the answers patients get, try questions against your changes before you save, and turn the questions the bot could not answer into phrasings or new articles.' }),
        h('p', { class: 'card-action' },
          h('a', { class: 'btn btn-primary', href: '/console/knowledge', testid: 'open-workspace', text: 'Open the editors\' workspace' })),
        h('p', { class: 'small muted', text: 'Patient chats are handled by agents, supervisors and admins. If you need to work chats, ask an admin for an agent account.' }))));
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
  // Supervisors and admins see the messages to patients that failed.
  const supervises = state.me.role === 'supervisor' || state.me.role === 'admin';
  ui.outboxCount = supervises ? h('span', { class: 'count', hidden: true }) : null;
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
      navItem('appointments', 'Appointments', null, 'nav-appointments'),
      supervises ? navItem('outbox', 'Messages', ui.outboxCount, 'nav-outbox') : null));

  header.appendChild(nav);
  // The pages beside the console: the figures (supervisors, admins) and
  // the editors' workspace (admins; editors see only that page's link).
  const pages = [
    supervises ? h('li', null, h('a', { class: 'nav-link', href: '/console/insights', testid: 'nav-insights', text: 'Insights' })) : null,
    state.me.role === 'admin' ? h('li', null, h('a', { class: 'nav-link', href: '/console/knowledge', testid: 'nav-knowledge', text: 'Knowledge' })) : null,
  ].filter(Boolean);
  if (pages.length) header.appendChild(h('nav', { class: 'pages', 'aria-label': 'Other pages' }, h('ul', null, pages)));
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
  ui.viewOutbox = supervises ? buildOutboxView() : null;
  append(ui.main, [ui.viewChats, ui.viewCallbacks, ui.viewHistory, ui.viewAppointments, ui.viewOutbox]);
  app.appendChild(ui.main);

  ui.toasts = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
  app.appendChild(ui.toasts);

  setView('chats', false);
  renderQueue();
  renderChatList();
  connect();
  loadCallbacks();
  intervals.push(window.setInterval(loadCallbacks, CALLBACK_REFRESH_MS));
  if (supervises) {
    loadOutbox();
    intervals.push(window.setInterval(loadOutbox, OUTBOX_REFRESH_MS));
  }
  intervals.push(window.setInterval(tick, 1000));
}

export function setView(view, focus) {
  state.view = view;
  ui.viewChats.hidden = view !== 'chats';
  ui.viewCallbacks.hidden = view !== 'callbacks';
  ui.viewHistory.hidden = view !== 'history';
  ui.viewAppointments.hidden = view !== 'appointments';
  if (ui.viewOutbox) ui.viewOutbox.hidden = view !== 'outbox';
  for (const [k, b] of Object.entries(ui.navBtns)) {
    if (k === view) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  if (view === 'history') loadHistory();
  if (view === 'callbacks') loadCallbacks();
  if (view === 'appointments' && ui.loadAppointments) ui.loadAppointments();
  if (view === 'outbox') loadOutbox();
  if (view === 'chats' && state.selected) markRead(state.chats.get(state.selected));
  if (focus) {
    const heading = {
      chats: ui.queueHeading, callbacks: ui.callbacksHeading, history: ui.historyHeading, appointments: ui.apptsHeading, outbox: ui.outboxHeading,
    }[view];
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

export function renderStatus() {
  if (!ui.statusOnline) return;
  ui.statusOnline.checked = state.status === 'online';
  ui.statusAway.checked = state.status !== 'online';
  const usable = state.connection === 'online';
  ui.statusOnline.disabled = !usable;
  ui.statusAway.disabled = !usable;
}

// A dismissed alert stays dismissed across reconnects and reloads of this tab.
const BURST_KEY = 'frontdesk:console:burst-dismissed';
function dismissBurst() {
  ui.burstBanner.hidden = true;
  try { window.sessionStorage.setItem(BURST_KEY, ui.burstBanner.dataset.at || ''); } catch (e) { /* storage off */ }
}
export function renderBurst(f) {
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

export function renderStorage(s) {
  if (!ui.storageBanner || !s || typeof s !== 'object') return;
  const failing = s.ok === false;
  const wasFailing = !ui.storageBanner.hidden;
  ui.storageBanner.hidden = !failing;
  ui.storageBanner.textContent = failing
    ? `Messages cannot be saved right now (${s.message || 'storage is failing'}). Patients are told to retry and their messages wait on their side; what you send is not delivered until saving works again.`
    : '';
  if (wasFailing && !failing) toast('Saving works again.');
}
