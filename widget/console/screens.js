/*
 * Screens before the console: booting, signing in and out, the session ending.
 */
import { clear, h } from './dom.js';
import { hooks, intervals, link, session, state, STATUS_KEY, ui } from './state.js';
import { api, apiMessage } from './api.js';
import { stashUnsent } from './chats.js';

export function root() {
  return document.getElementById('app');
}

export function setScreen(name) {
  state.screen = name;
  root().setAttribute('data-screen', name);
}

export async function boot() {
  const r = await api('GET', '/api/me');
  if (r.ok && r.data && r.data.name) {
    hooks.enterConsole(r.data);
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
      hooks.enterConsole({ name: r.data.name || n, role: r.data.role || 'agent' });
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

export function sessionEnded() {
  let notice = session.signingOut ? 'You have signed out.' : 'Your session ended. Please sign in again.';
  if (state.screen === 'signin') { session.signingOut = false; return; }
  if (session.signingOut) session.stash = null;
  else if (stashUnsent()) {
    notice += ' Messages you had not sent yet are kept and go out when you sign back in.';
  }
  session.signingOut = false;
  showSignIn(notice);
}

/** Stops sockets and timers and forgets everything about the last sign-in. */
export function teardown() {
  link.generation += 1;
  if (link.ws) {
    try { link.ws.close(1000); } catch (e) { /* already closed */ }
  }
  link.ws = null;
  if (link.reconnectTimer) window.clearTimeout(link.reconnectTimer);
  link.reconnectTimer = null;
  if (link.confirmTimer) window.clearTimeout(link.confirmTimer);
  link.confirmTimer = null;
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
  link.backoffAttempt = 0;
  for (const k of Object.keys(ui)) delete ui[k];
  document.title = 'Agent console — Frontdesk';
}

export async function signOut() {
  session.signingOut = true;
  link.generation += 1; // the 4001 close that follows is expected; do not reconnect
  try { window.sessionStorage.removeItem(STATUS_KEY); } catch (e) { /* storage off */ }
  await api('POST', '/api/logout');
  sessionEnded();
}
