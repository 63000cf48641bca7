/*
 * The list of the agent's chats (left), the page title, and selecting a chat.
 */
import { h, setCount } from './dom.js';
import { hooks, state, ui } from './state.js';
import { chatTitle, reasonLabel, SAFETY } from './format.js';
import { scrollToEnd } from './chatpane.js';

export function renderChatList() {
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

export function updateChatTab(t, chat) {
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

export function updateTitle() {
  let unread = 0;
  for (const c of state.chats.values()) if (!c.closed) unread += c.unread;
  const waiting = state.queue.length;
  const prefix = unread ? `(${unread}) ` : waiting ? `[${waiting} waiting] ` : '';
  document.title = `${prefix}Agent console — Frontdesk`;
}

export function selectChat(id, focus) {
  const chat = state.chats.get(id);
  if (!chat) return;
  state.selected = id;
  if (state.view !== 'chats') hooks.setView('chats', false);
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

export function markRead(chat) {
  if (!chat || !chat.unread) return;
  chat.unread = 0;
  renderChatList();
}
