/*
 * The past chats view: a list and a read-only transcript.
 */
import { append, clear, h } from './dom.js';
import { ui } from './state.js';
import { dispositionLabel, fmtDateTime, LANGS, reasonLabel, shortId } from './format.js';
import { api, apiMessage } from './api.js';
import { renderMessages } from './chatpane.js';
import { addHistoryMessage } from './chats.js';

export function buildHistoryView() {
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

export async function loadHistory() {
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
