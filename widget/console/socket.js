/*
 * The console WebSocket /console/ws: connecting, backoff, sending.
 */
import { hooks, link, state, ui } from './state.js';
import { api } from './api.js';

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30000;

function socketUrl() {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${window.location.host}/console/ws`;
}

export function setConnection(conn, text) {
  state.connection = conn;
  if (!ui.conn) return;
  ui.conn.setAttribute('data-state', conn);
  if (ui.connText.textContent !== text) ui.connText.textContent = text;
  ui.connDetail.textContent = conn === 'waiting' ? waitingText() : '';
  ui.connRetry.hidden = conn !== 'waiting';
  hooks.connectionChanged();
}

export function connect() {
  if (!state.me || state.screen !== 'console') return;
  if (link.reconnectTimer) window.clearTimeout(link.reconnectTimer);
  link.reconnectTimer = null;
  const gen = ++link.generation;
  setConnection('connecting', link.backoffAttempt ? 'Reconnecting…' : 'Connecting…');
  let sock;
  try {
    sock = new WebSocket(socketUrl());
  } catch (e) {
    scheduleReconnect();
    return;
  }
  link.ws = sock;
  let gotHello = false;
  sock.addEventListener('message', (ev) => {
    if (gen !== link.generation) return;
    if (typeof ev.data !== 'string') return;
    let frame;
    try { frame = JSON.parse(ev.data); } catch (e) { return; }
    if (!frame || typeof frame !== 'object' || typeof frame.type !== 'string') return;
    if (frame.type === 'hello') gotHello = true;
    try {
      hooks.onFrame(frame);
    } catch (e) {
      // A bad frame must never take the console down.
      if (window.console) window.console.error('frontdesk console: frame failed', frame.type, e);
    }
  });
  sock.addEventListener('close', (ev) => {
    if (gen !== link.generation) return;
    link.ws = null;
    if (ev.code === 4001) {
      hooks.sessionEnded();
      return;
    }
    if (!gotHello) {
      // The upgrade may have been refused (401/403): ask the API why.
      api('GET', '/api/me').then((r) => {
        if (gen !== link.generation) return;
        if (r.status === 401) hooks.sessionEnded();
        else if (r.ok && r.data && r.data.role === 'editor') hooks.enterConsole(r.data);
        else scheduleReconnect();
      });
    } else {
      scheduleReconnect();
    }
  });
}

function scheduleReconnect() {
  if (state.screen !== 'console') return;
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** link.backoffAttempt);
  const delay = Math.round(base / 2 + Math.random() * (base / 2)); // jitter: 50–100 %
  link.backoffAttempt += 1;
  link.reconnectAt = Date.now() + delay;
  if (link.reconnectTimer) window.clearTimeout(link.reconnectTimer);
  link.reconnectTimer = window.setTimeout(connect, delay);
  setConnection('waiting', 'Disconnected');
}

export function waitingText() {
  const s = Math.max(0, Math.ceil((link.reconnectAt - Date.now()) / 1000));
  return s > 0 ? `— retrying in ${s} s` : '— retrying…';
}

export function reconnectNow() {
  link.backoffAttempt = 0;
  if (link.ws) {
    link.generation += 1;
    try { link.ws.close(1000); } catch (e) { /* ignore */ }
    link.ws = null;
  }
  connect();
}

export function send(frame) {
  if (!link.ws || link.ws.readyState !== WebSocket.OPEN) return false;
  try {
    link.ws.send(JSON.stringify(frame));
    return true;
  } catch (e) {
    return false;
  }
}
