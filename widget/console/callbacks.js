/*
 * The callbacks view: patients who asked to be called or written back.
 */
import { append, clear, h, setCount, uid } from './dom.js';
import { state, ui } from './state.js';
import { CHANNELS, optOutBadge, shortId, timeEl } from './format.js';
import { toast } from './announce.js';
import { api, apiMessage } from './api.js';

export function buildCallbacksView() {
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
export async function loadCallbacks(announceDone) {
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
    // Opted out: no message reaches them that way; the agent should call.
    fact('Channel', [CHANNELS[c.channel] || (c.channel ? String(c.channel) : ''), ' ', optOutBadge(c)]);
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
