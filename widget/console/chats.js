/*
 * The agent's chats as data: frames that claim, update and close them, and
 * the unsent messages kept over an unexpected sign-out.
 */
import { session, state } from './state.js';
import { chatTitle, reasonLabel, SAFETY, truncate, WHY } from './format.js';
import { announce, toast } from './announce.js';
import { sendSayFrame, updateComposerState } from './composer.js';
import { buildChatPane, renderChat, renderMessages, renderSafety, renderTyping } from './chatpane.js';
import { renderChatList, selectChat } from './chatlist.js';
import { renderQueue } from './queue.js';

const PATIENT_TYPING_SHOWN_MS = 6000; // how long "Patient is typing…" stays
const MAX_CLOSED_KEPT = 30;

function newChat(id) {
  return {
    id,
    lang: 'en',
    reason: null,
    context: null,
    messages: new Map(), // seq -> message
    notes: [],
    pending: new Map(), // client id -> {id, text, state: 'sending'|'failed', error}
    mine: new Set(), // seqs this console sent
    unread: 0,
    typingUntil: 0,
    lastTypingSent: 0,
    closed: false,
    why: null,
    confirmed: true,
    claimedAt: Date.now(),
    el: null,
  };
}

export function onClaimed(f) {
  if (typeof f.conversation !== 'string') return;
  const id = f.conversation;
  let chat = state.chats.get(id);
  const requested = state.claiming.has(id);
  state.claiming.delete(id);
  const isNew = !chat || chat.closed;
  if (!chat || chat.closed) {
    if (chat && chat.el) chat.el.pane.remove();
    chat = newChat(id);
    state.chats.set(id, chat);
  }
  chat.confirmed = true;
  const ctx = f.context && typeof f.context === 'object' ? f.context : {};
  chat.context = ctx;
  if (typeof ctx.lang === 'string') chat.lang = ctx.lang;
  if (typeof ctx.reason === 'string') chat.reason = ctx.reason;
  const queued = state.queue.find((q) => q.conversation === id);
  if (queued) {
    if (!ctx.lang && queued.lang) chat.lang = queued.lang;
    if (!ctx.reason && queued.reason) chat.reason = queued.reason;
    // The queue's own clock, for when the packet has no waiting time.
    chat.waitedFallback = queued.waiting_s + (performance.now() - queued.t0) / 1000;
  }
  chat.messages = new Map();
  chat.moreHistory = f.more_history === true;
  for (const m of Array.isArray(f.history) ? f.history : []) addHistoryMessage(chat, m);
  chat.notes = (Array.isArray(f.notes) ? f.notes : []).filter((n) => n && typeof n.text === 'string');
  if (!chat.el) buildChatPane(chat);
  if (isNew) takeStash(chat);
  renderChat(chat);
  renderChatList();
  // Resend anything the server never acked, with the same id (idempotent).
  for (const p of chat.pending.values()) {
    if (p.state === 'sending') sendSayFrame(chat, p);
  }
  updateComposerState(chat);
  // Frames right after `hello` restore chats we already held; later
  // unrequested ones are transfers to us.
  const inBurst = Boolean(state.restoring);
  if (requested) {
    selectChat(id, true);
    announce(`You claimed ${chatTitle(chat)}: ${reasonLabel(chat.reason)}.`);
  } else {
    if (isNew && !inBurst) {
      toast(`A chat was transferred to you: ${chatTitle(chat)}.`);
      announce(`A chat was transferred to you: ${reasonLabel(chat.reason)}.`);
      chat.unread = Math.max(chat.unread, 1);
      renderChatList();
    }
    if (!state.selected) selectChat(id, false);
  }
}

export function addHistoryMessage(chat, m) {
  if (!m || typeof m !== 'object') return false;
  const seq = Number(m.seq);
  if (!Number.isFinite(seq)) return false;
  const msg = {
    seq,
    from: typeof m.from === 'string' ? m.from : 'system',
    text: typeof m.text === 'string' ? m.text : '',
    at: typeof m.at === 'string' ? m.at : null,
    article: typeof m.article === 'string' ? m.article : null,
    confidence: typeof m.confidence === 'number' ? m.confidence : null,
    choices: Array.isArray(m.choices) ? m.choices : null,
  };
  const had = chat.messages.has(seq);
  chat.messages.set(seq, msg);
  return !had;
}

export function onMessage(f) {
  const chat = state.chats.get(f.conversation);
  if (!chat || chat.closed) return;
  const added = addHistoryMessage(chat, f);
  if (!added) return;
  if (f.from === 'patient') {
    chat.typingUntil = 0;
    const visible = isChatVisible(chat);
    if (!visible) chat.unread += 1;
    announce(`${chatTitle(chat)}, patient: ${truncate(String(f.text || ''), 140)}`);
  }
  renderMessages(chat);
  renderTyping(chat);
  renderChatList();
}

export function onSafetyAlert(f) {
  const chat = state.chats.get(f.conversation);
  if (!chat || chat.closed) return;
  const kind = SAFETY[f.kind] ? f.kind : 'medical';
  chat.safety = { kind, category: typeof f.category === 'string' ? f.category : '', at: Date.now() };
  renderSafety(chat);
  if (!isChatVisible(chat)) {
    // The banner (role=alert) speaks for the open chat; another chat's
    // alert is announced, shown as a toast and marked in the list.
    chat.unread = Math.max(chat.unread, 1);
    const text = `${chatTitle(chat)}: ${SAFETY[kind].label}. ${SAFETY[kind].told}`;
    announce(text);
    toast(text);
  }
  renderChatList();
}

function isChatVisible(chat) {
  return state.view === 'chats' && state.selected === chat.id && !document.hidden;
}

export function onAck(f) {
  const chat = state.chats.get(f.conversation);
  if (!chat) return;
  const p = chat.pending.get(f.id);
  if (!p) return;
  chat.pending.delete(f.id);
  const seq = Number(f.seq);
  if (Number.isFinite(seq)) {
    chat.mine.add(seq);
    if (!chat.messages.has(seq)) {
      chat.messages.set(seq, { seq, from: 'agent', text: p.text, at: new Date().toISOString() });
    }
  }
  renderMessages(chat);
}

export function onTyping(f) {
  const chat = state.chats.get(f.conversation);
  if (!chat || chat.closed) return;
  if (f.from && f.from !== 'patient') return;
  chat.typingUntil = Date.now() + PATIENT_TYPING_SHOWN_MS;
  renderTyping(chat);
}

export function onNoteAdded(f) {
  const chat = state.chats.get(f.conversation);
  if (!chat || typeof f.text !== 'string') return;
  chat.noteInFlight = false;
  chat.notes.push({ author: f.author, text: f.text, at: f.at });
  renderMessages(chat);
}

export function onReleased(f) {
  const chat = state.chats.get(f.conversation);
  if (!chat || chat.closed) return;
  closeChat(chat, typeof f.why === 'string' ? f.why : 'lost');
}

export function closeChat(chat, why) {
  chat.closed = true;
  chat.why = why;
  chat.typingUntil = 0;
  chat.closedAt = Date.now();
  for (const p of chat.pending.values()) {
    if (p.state === 'sending') {
      p.state = 'failed';
      p.error = 'The chat closed before this message was stored; the patient did not get it.';
    }
  }
  const msg = WHY[why] || `This chat was closed (${why}).`;
  toast(`${chatTitle(chat)}: ${msg}`);
  if (why === 'patient_ended' || why === 'transferred' || why === 'lost') announce(`${chatTitle(chat)}: ${msg}`);
  // Keep at most MAX_CLOSED_KEPT closed chats in memory.
  const closed = Array.from(state.chats.values()).filter((c) => c.closed).sort((a, b) => a.closedAt - b.closedAt);
  while (closed.length > MAX_CLOSED_KEPT) {
    const old = closed.shift();
    if (old.id === state.selected) break;
    if (old.el) old.el.pane.remove();
    state.chats.delete(old.id);
  }
  renderChat(chat);
  renderChatList();
}

export function onError(f) {
  const code = f.code;
  const message = typeof f.message === 'string' && f.message ? f.message : 'The server refused that.';
  const chat = typeof f.conversation === 'string' ? state.chats.get(f.conversation) : null;
  if (code === 'already_claimed') {
    if (f.conversation) state.claiming.delete(f.conversation);
    renderQueue();
    toast('Another agent took this chat.', 'info');
    return;
  }
  if (code === 'not_queued') {
    if (f.conversation) state.claiming.delete(f.conversation);
    renderQueue();
    toast('That chat is no longer waiting in the queue.', 'info');
    return;
  }
  // Refusals of a `say` may not carry its id. The server handles one
  // socket's frames in order, so a say-shaped refusal belongs to the oldest
  // say of that chat still waiting for its ack.
  let pendingId = f.id;
  if (chat && !pendingId && ['empty_text', 'text_too_long', 'unavailable', 'bad_frame'].includes(code)) {
    const oldest = Array.from(chat.pending.values()).find((p) => p.state === 'sending' && p.sentAt);
    if (oldest && !(code === 'bad_frame' && chat.noteInFlight)) pendingId = oldest.id;
  }
  if (chat) chat.noteInFlight = false;
  if (chat && pendingId && chat.pending.has(pendingId)) {
    const p = chat.pending.get(pendingId);
    if (code === 'unavailable') {
      // Not stored: try again shortly with the same id.
      window.setTimeout(() => {
        if (chat.pending.get(p.id) === p && p.state === 'sending') {
          sendSayFrame(chat, p);
        }
      }, 3000);
      return;
    }
    p.state = 'failed';
    p.error = message;
    renderMessages(chat);
    return;
  }
  if (code === 'not_yours' && chat && !chat.closed) {
    closeChat(chat, 'lost');
    return;
  }
  if (code === 'unknown_agent') {
    toast('That agent is not available for a transfer. Pick someone else.', 'error');
    return;
  }
  toast(chat ? `${chatTitle(chat)}: ${message}` : message, 'error');
}

/** Keeps unsent messages and drafts (in memory only) when a session ends
 * unexpectedly, so they survive signing back in as the same agent.
 * Returns true when there was something to keep. */
export function stashUnsent() {
  if (!state.me) return false;
  const chats = new Map();
  for (const chat of state.chats.values()) {
    if (chat.closed) continue;
    const pending = Array.from(chat.pending.values()).filter((p) => p.state === 'sending');
    const draft = chat.el ? chat.el.composer.value : '';
    if (pending.length || draft.trim()) chats.set(chat.id, { pending, draft });
  }
  session.stash = chats.size ? { name: state.me.name, chats } : null;
  return Boolean(session.stash && Array.from(chats.values()).some((c) => c.pending.length));
}

function takeStash(chat) {
  if (!session.stash || !state.me || session.stash.name !== state.me.name) return;
  const kept = session.stash.chats.get(chat.id);
  if (!kept) return;
  session.stash.chats.delete(chat.id);
  for (const p of kept.pending) chat.pending.set(p.id, { id: p.id, text: p.text, state: 'sending', sentAt: 0 });
  if (kept.draft && chat.el && !chat.el.composer.value) chat.el.composer.value = kept.draft;
}
