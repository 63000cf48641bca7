/*
 * Modal dialogs: the generic one, and the chat actions (insert an answer,
 * note, transfer, return to bot, resolve).
 */
import { append, clear, h, hiddenText, uid } from './dom.js';
import { MAX_TEXT, state } from './state.js';
import { DISPOSITIONS, graphemeCount, LANGS, ROLES, truncate } from './format.js';
import { toast } from './announce.js';
import { api, apiMessage } from './api.js';
import { send } from './socket.js';
import { insertIntoComposer } from './composer.js';

/** A modal <dialog>. Returns {dialog, body, close}. Focus returns to the opener. */
export function openDialog(title, opts) {
  const opener = document.activeElement;
  const titleId = uid('dlg-title');
  const body = h('div', { class: 'dialog-body' });
  const closeBtn = h('button', { type: 'button', class: 'dialog-x' }, h('span', { 'aria-hidden': 'true', text: '×' }), hiddenText('Close'));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, testid: opts && opts.testid },
    h('div', { class: 'dialog-head' }, h('h2', { id: titleId, text: title }), closeBtn),
    body);
  const close = () => { if (dialog.open) dialog.close(); };
  closeBtn.addEventListener('click', close);
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && document.contains(opener) && !opener.disabled) opener.focus();
    else if (opts && opts.fallbackFocus && document.contains(opts.fallbackFocus)) opts.fallbackFocus.focus();
  });
  dialog.addEventListener('click', (ev) => { if (ev.target === dialog) close(); });
  document.body.appendChild(dialog);
  dialog.showModal();
  return { dialog, body, close };
}

export function actionsRow(...buttons) {
  return h('div', { class: 'dialog-actions' }, ...buttons);
}

export function openArticleDialog(chat) {
  const d = openDialog('Insert an answer', { testid: 'article-dialog', fallbackFocus: chat.el.composer });
  const inputId = uid('article-q');
  const input = h('input', { id: inputId, type: 'search', autocomplete: 'off', testid: 'article-search' });
  const status = h('p', { class: 'muted', role: 'status' });
  const results = h('ul', { class: 'article-results', testid: 'article-results' });
  const form = h('form', { class: 'search-row', role: 'search' },
    h('label', { for: inputId, text: `Search answers (${LANGS[chat.lang] || chat.lang})` }),
    h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'btn btn-secondary', text: 'Search' })));
  append(d.body, [form, status, results]);
  let seq = 0;
  let debounce = null;
  const run = async () => {
    const q = input.value.trim();
    const mySeq = ++seq;
    if (!q) {
      clear(results);
      status.textContent = 'Type a few words, for example “parking” or “insurance”.';
      return;
    }
    status.textContent = 'Searching…';
    const r = await api('GET', `/api/articles?q=${encodeURIComponent(q)}&lang=${encodeURIComponent(chat.lang || 'en')}`);
    if (mySeq !== seq || !d.dialog.open) return;
    clear(results);
    if (!r.ok || !Array.isArray(r.data)) {
      status.textContent = apiMessage(r, 'Searching failed. Try again.');
      return;
    }
    status.textContent = r.data.length ? `${r.data.length} answer${r.data.length === 1 ? '' : 's'} found.` : 'No answers match. Try other words.';
    for (const a of r.data) {
      if (!a || typeof a.text !== 'string') continue;
      const pick = h('button', { type: 'button', class: 'btn btn-primary btn-small', text: 'Insert' });
      pick.setAttribute('aria-label', `Insert “${a.title || a.id}”`);
      pick.addEventListener('click', () => {
        insertIntoComposer(chat, a.text);
        d.close();
        chat.el.composer.focus();
      });
      results.appendChild(h('li', { class: 'article' },
        h('div', { class: 'article-head' },
          h('h3', { text: a.title || a.id || 'Untitled' }),
          pick),
        h('p', { class: 'article-id', text: `${a.id || ''}${a.lang ? ` · ${String(a.lang).toUpperCase()}` : ''}` }),
        h('p', { class: 'article-text', text: truncate(a.text, 400) })));
    }
  };
  input.addEventListener('input', () => {
    window.clearTimeout(debounce);
    debounce = window.setTimeout(run, 250);
  });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); window.clearTimeout(debounce); run(); });
  run();
  input.focus();
}

export function openNoteDialog(chat) {
  const d = openDialog('Add an internal note', { testid: 'note-dialog', fallbackFocus: chat.el.composer });
  const id = uid('note');
  const ta = h('textarea', { id, rows: '4', testid: 'note-text', 'aria-describedby': `${id}-hint` });
  const err = h('p', { class: 'form-error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'note-save', text: 'Save note' });
  const form = h('form', null,
    h('label', { for: id, text: 'Note' }),
    h('p', { id: `${id}-hint`, class: 'hint', text: 'Only staff see notes. The patient never does.' }),
    ta, err,
    actionsRow(h('button', { type: 'button', class: 'btn btn-quiet', text: 'Cancel', onclick: d.close }), save));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = ta.value.trim();
    if (!text) { err.textContent = 'Write the note first.'; ta.focus(); return; }
    if (graphemeCount(text) > MAX_TEXT) { err.textContent = `Notes can be at most ${MAX_TEXT} characters.`; return; }
    if (!send({ type: 'note', conversation: chat.id, text })) { err.textContent = 'Not connected. Try again in a moment.'; return; }
    chat.noteInFlight = true;
    d.close();
  });
  d.body.appendChild(form);
  ta.focus();
}

export async function openTransferDialog(chat) {
  const d = openDialog('Transfer this chat', { testid: 'transfer-dialog', fallbackFocus: chat.el.composer });
  const status = h('p', { class: 'muted', role: 'status', text: 'Loading who is online…' });
  d.body.appendChild(status);
  const r = await api('GET', '/api/agents');
  if (!d.dialog.open) return;
  if (!r.ok || !Array.isArray(r.data)) {
    status.textContent = apiMessage(r, 'Could not load the agent list.');
    return;
  }
  const me = state.me ? state.me.name : '';
  const online = r.data.filter((a) => a && a.name !== me && a.online && a.role !== 'editor');
  online.sort((a, b) => (a.status === 'online' ? 0 : 1) - (b.status === 'online' ? 0 : 1) || String(a.name).localeCompare(String(b.name)));
  if (!online.length) {
    status.textContent = 'No other agent is online right now.';
    d.body.appendChild(actionsRow(h('button', { type: 'button', class: 'btn btn-secondary', text: 'Close', onclick: d.close })));
    return;
  }
  status.textContent = '';
  status.hidden = true;
  const group = uid('transfer');
  const err = h('p', { class: 'form-error', role: 'alert' });
  const fs = h('fieldset', { class: 'choices' }, h('legend', { text: 'Hand the chat to' }));
  online.forEach((a, i) => {
    const id = `${group}-${i}`;
    fs.appendChild(h('div', { class: 'choice' },
      h('input', { type: 'radio', name: group, id, value: a.name, checked: i === 0 }),
      h('label', { for: id }, String(a.name), h('span', { class: 'muted', text: ` — ${ROLES[a.role] || a.role || ''}${a.status === 'away' ? ', away' : ''}` }))));
  });
  const form = h('form', null, fs, err,
    actionsRow(h('button', { type: 'button', class: 'btn btn-quiet', text: 'Cancel', onclick: d.close }),
      h('button', { type: 'submit', class: 'btn btn-primary', testid: 'transfer-confirm', text: 'Transfer' })));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const picked = fs.querySelector('input:checked');
    if (!picked) { err.textContent = 'Pick an agent.'; return; }
    if (!send({ type: 'transfer', conversation: chat.id, to: picked.value })) { err.textContent = 'Not connected. Try again in a moment.'; return; }
    d.close();
  });
  d.body.appendChild(form);
  const first = fs.querySelector('input');
  if (first) first.focus();
}

export function openReturnDialog(chat) {
  const d = openDialog('Return this chat to the bot?', { testid: 'return-dialog', fallbackFocus: chat.el.composer });
  const ok = h('button', { type: 'button', class: 'btn btn-primary', testid: 'return-confirm', text: 'Return to bot' });
  ok.addEventListener('click', () => {
    if (!send({ type: 'return_to_bot', conversation: chat.id })) { toast('Not connected. Try again in a moment.', 'error'); return; }
    d.close();
  });
  append(d.body, [
    h('p', { text: 'The bot will answer the patient\'s next messages again. The chat leaves your list.' }),
    actionsRow(h('button', { type: 'button', class: 'btn btn-quiet', text: 'Cancel', onclick: d.close }), ok)]);
  ok.focus();
}

export function openResolveDialog(chat) {
  const d = openDialog('Resolve this chat', { testid: 'resolve-dialog', fallbackFocus: chat.el.composer });
  const group = uid('disp');
  const otherId = `${group}-other-text`;
  const other = h('input', { type: 'text', id: otherId, maxlength: '100', hidden: true, testid: 'disposition-other' });
  const otherLabel = h('label', { for: otherId, class: 'other-label', hidden: true, text: 'Describe the outcome' });
  const err = h('p', { class: 'form-error', role: 'alert' });
  const fs = h('fieldset', { class: 'choices' }, h('legend', { text: 'How did it end?' }));
  DISPOSITIONS.forEach((opt, i) => {
    const id = `${group}-${i}`;
    const r = h('input', { type: 'radio', name: group, id, value: opt.value, checked: i === 0, testid: `disposition-${opt.value}` });
    fs.appendChild(h('div', { class: 'choice' }, r, h('label', { for: id, text: opt.label })));
  });
  // "Other" reveals a free-text field for the outcome.
  fs.addEventListener('change', (ev) => {
    if (ev.target === other) return;
    const v = (fs.querySelector('input[type=radio]:checked') || {}).value;
    other.hidden = v !== 'other';
    otherLabel.hidden = v !== 'other';
  });
  fs.appendChild(h('div', { class: 'other' }, otherLabel, other));
  const form = h('form', null, fs, err,
    actionsRow(h('button', { type: 'button', class: 'btn btn-quiet', text: 'Cancel', onclick: d.close }),
      h('button', { type: 'submit', class: 'btn btn-primary', testid: 'resolve-confirm', text: 'Resolve chat' })));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = (fs.querySelector('input[type=radio]:checked') || {}).value || 'answered';
    let disposition = v;
    if (v === 'other') {
      disposition = other.value.trim();
      if (!disposition) { err.textContent = 'Describe the outcome in a few words.'; other.focus(); return; }
      disposition = Array.from(disposition).slice(0, 100).join('');
    }
    if (!send({ type: 'resolve', conversation: chat.id, disposition })) { err.textContent = 'Not connected. Try again in a moment.'; return; }
    d.close();
  });
  d.body.appendChild(form);
  fs.querySelector('input').focus();
}
