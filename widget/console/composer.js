/*
 * The reply box of a chat pane: character count, enabled state, sending a `say`.
 */
import { MAX_TEXT, state } from './state.js';
import { graphemeCount } from './format.js';
import { send } from './socket.js';

export function updateCharCount(chat) {
  const n = graphemeCount(chat.el.composer.value);
  chat.el.count.textContent = n > MAX_TEXT - 200 ? `· ${n} / ${MAX_TEXT} characters` : '';
}

export function updateComposerState(chat) {
  if (!chat.el) return;
  // Typing stays possible while offline; messages wait and go out on reconnect.
  chat.el.send.disabled = chat.closed;
  for (const b of chat.el.tools.querySelectorAll('button')) {
    const needsSocket = b.getAttribute('data-testid') !== 'insert-answer-button';
    b.disabled = chat.closed || (needsSocket && state.connection !== 'online');
  }
}

export function sendSayFrame(chat, p) {
  if (send({ type: 'say', conversation: chat.id, id: p.id, text: p.text })) p.sentAt = Date.now();
}

export function insertIntoComposer(chat, text) {
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
