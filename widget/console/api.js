/*
 * The HTTP API under /api (cookie session, same origin).
 */
import { hooks, state } from './state.js';

/** One call. `headers` adds request headers (If-Match). Resolves to {ok,
 * status, data, headers}, or {network: true} when nothing answered. */
export async function api(method, path, body, headers) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...(headers || {}) } };
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
    hooks.sessionEnded();
  }
  return { ok: res.ok, status: res.status, data, headers: res.headers };
}

export function apiMessage(r, fallback) {
  if (r.network) return 'The server could not be reached. Check the connection and try again.';
  if (r.data && typeof r.data.message === 'string' && r.data.message) return r.data.message;
  return fallback;
}
