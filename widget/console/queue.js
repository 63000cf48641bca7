/*
 * The queue of waiting chats and the chats view that holds it.
 */
import { append, clear, h, hiddenText, setCount } from './dom.js';
import { state, ui } from './state.js';
import { fmtDuration, langBadge, reasonLabel } from './format.js';
import { announce, toast } from './announce.js';
import { send, waitingText } from './socket.js';
import { renderTyping } from './chatpane.js';
import { updateTitle } from './chatlist.js';

export function onQueue(f) {
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

export function buildChatsView() {
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

export function renderQueue() {
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

export function tick() {
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
