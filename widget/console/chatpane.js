/*
 * One chat's pane: header, tools, safety banner, hand-over summary,
 * transcript, typing line and composer.
 */
import { append, clear, h, uid } from './dom.js';
import { hooks, MAX_TEXT, ui } from './state.js';
import {
  CHANNELS, chatTitle, fmtDuration, FROM_LABELS, graphemeCount, langBadge, LANGS, newId, parseDate,
  reasonLabel, SAFETY, timeEl, WHY,
} from './format.js';
import { toast } from './announce.js';
import { send } from './socket.js';
import { sendSayFrame, updateCharCount, updateComposerState } from './composer.js';
import {
  openArticleDialog, openNoteDialog, openResolveDialog, openReturnDialog, openTransferDialog,
} from './dialogs.js';

const TYPING_EVERY_MS = 3000; // send `typing` at most this often

export function buildChatPane(chat) {
  const el = {};
  const headingId = uid('chat-title');
  el.heading = h('h2', { id: headingId, tabindex: '-1' });
  el.headLang = h('span', { class: 'head-lang' });
  el.headReason = h('span', { class: 'head-reason' });

  const tool = (label, testid, onclick, cls) => h('button', { type: 'button', class: `btn ${cls || 'btn-secondary'} btn-small`, testid, text: label, onclick });
  el.tools = h('div', { class: 'tools', role: 'group', 'aria-label': 'Chat actions' },
    tool('Insert answer', 'insert-answer-button', () => openArticleDialog(chat)),
    tool('Note', 'note-button', () => openNoteDialog(chat)),
    tool('Transfer', 'transfer-button', () => openTransferDialog(chat)),
    tool('Return to bot', 'return-button', () => openReturnDialog(chat)),
    tool('Resolve', 'resolve-button', () => openResolveDialog(chat), 'btn-primary'));

  el.banner = h('p', { class: 'closed-banner', hidden: true });
  el.safetyText = h('span');
  el.safety = h('div', { class: 'safety-banner', role: 'alert', testid: 'safety-alert', hidden: true },
    el.safetyText,
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', text: 'Dismiss', onclick: () => {
      chat.safety = null;
      renderSafety(chat);
    } }));
  el.context = h('div', { class: 'context-body' });
  el.contextBox = h('details', { class: 'context', open: true, testid: 'context' },
    h('summary', { text: 'Hand-over summary' }), el.context);

  el.messages = h('ol', { class: 'messages', testid: 'message-list', 'aria-label': 'Conversation', tabindex: '0' });
  el.typing = h('p', { class: 'typing', testid: 'typing', hidden: true },
    h('span', { class: 'dots', 'aria-hidden': 'true' }, h('span'), h('span'), h('span')), ' Patient is typing…');

  const composerId = uid('composer');
  const hintId = uid('composer-hint');
  el.composer = h('textarea', {
    id: composerId, rows: '3', testid: 'composer', 'aria-describedby': hintId, spellcheck: 'true',
    lang: chat.lang || 'en',
  });
  el.count = h('span', { class: 'char-count', 'aria-live': 'polite' });
  el.hint = h('p', { id: hintId, class: 'hint' }, 'Enter sends · Shift+Enter adds a new line ', el.count);
  el.send = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'send-button', text: 'Send' });
  el.form = h('form', { class: 'composer', 'aria-label': 'Reply to the patient' },
    h('label', { for: composerId, class: 'composer-label', text: 'Message to the patient' }),
    h('div', { class: 'composer-row' }, el.composer, el.send),
    el.hint);
  el.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sendSay(chat);
  });
  el.composer.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
      ev.preventDefault();
      sendSay(chat);
    }
  });
  el.composer.addEventListener('input', () => {
    const text = el.composer.value;
    updateCharCount(chat);
    const now = Date.now();
    if (text.trim() && now - chat.lastTypingSent >= TYPING_EVERY_MS && !chat.closed) {
      if (send({ type: 'typing', conversation: chat.id })) chat.lastTypingSent = now;
    }
  });

  el.pane = h('article', { class: 'chat', testid: 'chat-pane', 'data-conversation': chat.id, 'aria-labelledby': headingId, hidden: true },
    h('header', { class: 'chat-head' },
      h('div', { class: 'chat-id' }, el.heading, h('p', { class: 'chat-sub' }, el.headReason, el.headLang)),
      el.tools),
    el.banner,
    el.safety,
    el.contextBox,
    el.messages,
    el.typing,
    el.form);
  chat.el = el;
  ui.chatArea.appendChild(el.pane);
}

export function renderChat(chat) {
  const el = chat.el;
  if (!el) return;
  el.heading.textContent = chatTitle(chat);
  el.headReason.textContent = reasonLabel(chat.reason);
  el.headReason.classList.toggle('urgent-text', chat.reason === 'emergency');
  clear(el.headLang);
  el.headLang.appendChild(langBadge(chat.lang));
  el.composer.setAttribute('lang', chat.lang || 'en');
  el.tools.hidden = chat.closed;
  el.banner.hidden = !chat.closed;
  el.banner.textContent = chat.closed ? `${WHY[chat.why] || 'This chat is closed.'} The transcript below is read-only.` : '';
  el.form.hidden = chat.closed;
  renderContext(chat);
  renderSafety(chat);
  renderMessages(chat);
  renderTyping(chat);
  updateComposerState(chat);
}

function renderContext(chat) {
  const el = chat.el;
  const ctx = chat.context || {};
  clear(el.context);
  const dl = h('dl', { class: 'facts' });
  const fact = (term, ...val) => append(dl, [h('dt', { text: term }), h('dd', null, ...val)]);
  fact('Reason', h('span', { class: chat.reason === 'emergency' ? 'urgent-text' : '', text: reasonLabel(ctx.reason || chat.reason) }));
  fact('Language', LANGS[ctx.lang || chat.lang] || String(ctx.lang || chat.lang || 'unknown'));
  if (ctx.channel === 'sms') {
    fact('Channel', h('span', { class: 'channel-sms', text: 'Text message (SMS): your replies go to their phone as texts, without formatting' }));
  } else if (ctx.channel) {
    fact('Channel', 'Website chat');
  }
  const waited = typeof ctx.waiting_s === 'number' ? ctx.waiting_s : chat.waitedFallback;
  fact('Waited', typeof waited === 'number' ? fmtDuration(waited) : 'unknown');
  // How the patient likes to be reached, said in this chat or an earlier one.
  const contact = ctx.contact && typeof ctx.contact === 'object' ? ctx.contact : null;
  if (contact && typeof contact.contact === 'string') {
    fact('Reach by', h('span', { testid: 'context-contact' },
      `${CHANNELS[contact.channel] || String(contact.channel || '')}: `,
      h('span', { class: 'contact', text: contact.contact })));
  }
  el.context.appendChild(dl);

  const questions = Array.isArray(ctx.questions) ? ctx.questions.filter((q) => typeof q === 'string') : [];
  el.context.appendChild(h('h3', { text: 'The patient asked' }));
  if (questions.length) {
    el.context.appendChild(h('ol', { class: 'ctx-questions' }, questions.map((q) => h('li', { text: q }))));
  } else {
    el.context.appendChild(h('p', { class: 'muted', text: 'No questions recorded.' }));
  }

  const bot = Array.isArray(ctx.bot) ? ctx.bot.filter((b) => b && typeof b === 'object') : [];
  el.context.appendChild(h('h3', { text: 'The bot answered or offered' }));
  if (bot.length) {
    el.context.appendChild(h('ul', { class: 'ctx-bot' }, bot.map((b) => h('li', null,
      h('p', { class: 'ctx-bot-text', text: typeof b.text === 'string' ? b.text : '' }),
      botMeta(b.article, b.confidence)))));
  } else {
    el.context.appendChild(h('p', { class: 'muted', text: 'The bot had no answer.' }));
  }
}

function botMeta(article, confidence) {
  const parts = [];
  if (typeof confidence === 'number' && Number.isFinite(confidence)) {
    parts.push(`${Math.round(Math.max(0, Math.min(1, confidence)) * 100)} % confident`);
  }
  if (typeof article === 'string' && article) parts.push(`article ${article}`);
  if (!parts.length) return null;
  return h('p', { class: 'bot-meta', text: parts.join(' · ') });
}

export function renderMessages(chat) {
  const el = chat.el;
  if (!el) return;
  const list = el.messages;
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  clear(list);
  // Messages in seq order; each note slotted in after the messages written before it.
  const msgs = Array.from(chat.messages.values(), (m) => ({ kind: 'msg', m, t: parseDate(m.at) }))
    .sort((a, b) => a.m.seq - b.m.seq);
  const notes = chat.notes.map((n) => ({ kind: 'note', n, t: parseDate(n.at) }))
    .sort((a, b) => (a.t ? a.t.getTime() : 0) - (b.t ? b.t.getTime() : 0));
  const merged = [];
  let ni = 0;
  for (const m of msgs) {
    const mt = m.t ? m.t.getTime() : 0;
    while (ni < notes.length && (notes[ni].t ? notes[ni].t.getTime() : 0) < mt) merged.push(notes[ni++]);
    merged.push(m);
  }
  while (ni < notes.length) merged.push(notes[ni++]);

  // A long chat comes with its newest messages only.
  if (chat.moreHistory) {
    list.appendChild(h('li', { class: 'msg msg-system',
      text: 'Only the newest 200 messages of this long chat are shown here; "Past chats" shows the newest 500.' }));
  }
  for (const it of merged) {
    if (it.kind === 'msg') list.appendChild(messageItem(it.m, chat.mine.has(it.m.seq)));
    else list.appendChild(noteItem(it.n));
  }
  for (const p of chat.pending.values()) list.appendChild(pendingItem(chat, p));
  if (!list.firstChild) list.appendChild(h('li', { class: 'msg msg-system', text: 'No messages yet.' }));
  if (atEnd || chat.forceScroll) scrollToEnd(chat, false);
}

export function scrollToEnd(chat) {
  if (!chat || !chat.el) return;
  const list = chat.el.messages;
  list.scrollTop = list.scrollHeight;
}

/** One transcript message. Exported to the past-chat view as well. */
function messageItem(m, mine) {
  const from = FROM_LABELS[m.from] ? m.from : 'system';
  const who = mine ? 'You' : FROM_LABELS[from];
  const li = h('li', { class: `msg msg-${from}${mine ? ' msg-mine' : ''}`, 'data-seq': m.seq });
  li.appendChild(h('p', { class: 'msg-meta' }, h('span', { class: 'msg-who', text: who }), ' ', timeEl(m.at)));
  li.appendChild(h('p', { class: 'msg-text', text: m.text }));
  if (from === 'bot') {
    const meta = botMeta(m.article, m.confidence);
    if (meta) li.appendChild(meta);
    if (m.choices && m.choices.length) {
      const labels = m.choices.map((c) => (c && typeof c.label === 'string' ? c.label : '')).filter(Boolean);
      if (labels.length) li.appendChild(h('p', { class: 'bot-meta', text: `Offered: ${labels.join(' · ')}` }));
    }
  }
  return li;
}

function noteItem(n) {
  return h('li', { class: 'msg msg-note' },
    h('p', { class: 'msg-meta' },
      h('span', { class: 'note-label', text: 'Internal note — patient can\'t see this' }), ' ',
      h('span', { class: 'msg-who', text: n.author ? String(n.author) : '' }), ' ', timeEl(n.at)),
    h('p', { class: 'msg-text', text: n.text }));
}

function pendingItem(chat, p) {
  const li = h('li', { class: `msg msg-agent msg-mine pending${p.state === 'failed' ? ' failed' : ''}` },
    h('p', { class: 'msg-meta' }, h('span', { class: 'msg-who', text: 'You' }), ' ',
      h('span', { class: 'pending-state', text: p.state === 'failed' ? 'Not sent' : 'sending…' })),
    h('p', { class: 'msg-text', text: p.text }));
  if (p.state === 'failed') {
    li.appendChild(h('p', { class: 'fail-reason', text: p.error || 'The server refused this message.' }));
    if (!chat.closed) li.appendChild(h('div', { class: 'fail-actions' },
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-small', text: 'Edit and resend',
        onclick: () => {
          chat.pending.delete(p.id);
          const c = chat.el.composer;
          c.value = c.value ? `${p.text}\n${c.value}` : p.text;
          updateCharCount(chat);
          renderMessages(chat);
          c.focus();
        },
      }),
      h('button', {
        type: 'button', class: 'btn btn-quiet btn-small', text: 'Discard',
        onclick: () => { chat.pending.delete(p.id); renderMessages(chat); chat.el.composer.focus(); },
      })));
  }
  return li;
}

export function renderTyping(chat) {
  if (!chat.el) return;
  const on = !chat.closed && chat.typingUntil > Date.now();
  if (chat.el.typing.hidden === on) chat.el.typing.hidden = !on;
  const tab = ui.chatTabs && ui.chatTabs.get(chat.id);
  if (tab) hooks.updateChatTab(tab, chat);
}

export function renderSafety(chat) {
  const el = chat.el;
  if (!el) return;
  const alert = chat.safety;
  el.safety.hidden = !alert || chat.closed;
  if (!alert) return;
  const what = SAFETY[alert.kind];
  const topic = alert.category ? ` (${alert.category.replace(/_/g, ' ')})` : '';
  el.safetyText.textContent = `${what.label}${topic}. ${what.told} Stay with the patient, and follow the clinic's emergency procedure.`;
  el.safety.dataset.level = what.level;
}

function sendSay(chat) {
  if (chat.closed) return;
  const c = chat.el.composer;
  const text = c.value.trim();
  if (!text) {
    c.focus();
    return;
  }
  if (graphemeCount(text) > MAX_TEXT) {
    toast(`Messages can be at most ${MAX_TEXT} characters. Shorten it or split it in two.`, 'error');
    return;
  }
  const id = newId();
  const p = { id, text, state: 'sending', sentAt: 0 };
  chat.pending.set(id, p);
  if (chat.confirmed) sendSayFrame(chat, p);
  c.value = '';
  updateCharCount(chat);
  chat.forceScroll = true;
  renderMessages(chat);
  chat.forceScroll = false;
  c.focus();
}
