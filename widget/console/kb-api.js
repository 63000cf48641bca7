/*
 * The editors' workspace: calls to the HTTP API (cookie session, same
 * origin), what to say when one fails, and the page's two live regions, one polite for what went well
 * and one assertive for what went wrong.
 */
import { h } from './dom.js';
import { api } from './api.js';
import { kb, kbUi } from './kb-state.js';

/** One API call: the console's (api.js), whose 401 ends the session
 * through `hooks.sessionEnded` (kb-main.js shows the sign-in message). */
export const call = api;

/** What to tell the editor about a failed call. */
export function failure(r, fallback) {
  if (r.network) return 'The server could not be reached. Check the connection and try again.';
  if (r.status === 401) return 'Your session ended. Sign in again on the agent console, then come back to this page.';
  if (r.status === 403) return 'Your account cannot change the knowledge files. Editors and admins can.';
  const said = r.data && typeof r.data.message === 'string' && r.data.message ? r.data.message : '';
  if (r.status === 429) {
    const wait = Number(r.headers && r.headers.get('Retry-After'));
    const later = Number.isFinite(wait) && wait > 0 ? ` Try again in ${Math.ceil(wait)} s.` : '';
    return `${said || 'Too many requests.'}${said.includes('again') ? '' : later}`;
  }
  return said || fallback;
}

/** Problems of a 422 answer (or a check), each {line, message, field?,
 * key?} (`key`: an unknown front-matter key the editor may remove). */
export function problemsOf(data) {
  const list = data && Array.isArray(data.problems) ? data.problems : [];
  return list
    .filter((p) => p && typeof p.message === 'string')
    .map((p) => ({
      line: Number.isInteger(p.line) && p.line > 0 ? p.line : null,
      message: p.message,
      field: typeof p.field === 'string' ? p.field : null,
      key: typeof p.key === 'string' ? p.key : null,
    }));
}

/** Says something that went well (polite live region). */
export function say(text) {
  if (!kbUi.status) return;
  kb.signedOut = false;
  kbUi.alert.textContent = '';
  kbUi.status.textContent = text;
}

/** Says something that went wrong (assertive live region); extra nodes
 * (a button) may follow the text. After the session ended, it adds how to
 * sign in again without losing the draft. */
export function warn(text, ...extra) {
  if (!kbUi.alert) return;
  if (kb.signedOut && !extra.length) {
    extra.push(h('span', null, 'Your changes are still here: ',
      h('a', { href: '/console', target: '_blank', rel: 'noopener', text: 'sign in again in a new tab' }),
      ', then come back and try again.'));
  }
  kbUi.status.textContent = '';
  kbUi.alert.replaceChildren(h('span', { text }), ...extra.map((x) => (x ? [' ', x] : [])).flat());
}
