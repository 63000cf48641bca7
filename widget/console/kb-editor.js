/*
 * The editors' workspace: the editor in the middle. Opens an article,
 * checks the draft as the editor types (debounced; the server's checks and
 * preview), saves it with the etag it was opened at (a conflict when the
 * file changed on disk meanwhile), creates and retires articles, and shows
 * the version in the other language beside it.
 */
import { h } from './dom.js';
import { fmtDateTime } from './format.js';
import { kb, kbHooks, kbUi, LANG_NAMES } from './kb-state.js';
import { call, failure, problemsOf, say, warn } from './kb-api.js';
import { confirmDialog } from './kb-dialog.js';
import { bubble } from './kb-preview.js';
import { buildFields, fillForm, readDraft, showProblems } from './kb-form.js';

const CHECK_DELAY_MS = 400;
let checkTimer = 0;
let openSeq = 0;

export function buildEditor() {
  kbUi.editorHeading = h('h2', { id: 'kb-editor-heading', tabindex: '-1', text: 'Editor' });
  kbUi.editorMeta = h('p', { class: 'small muted', testid: 'kb-meta' });
  kbUi.empty = h('p', { class: 'empty', testid: 'kb-empty', text: 'Pick an article on the left, or start a new one.' });
  kbUi.save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'kb-save', form: 'kb-form', text: 'Save', disabled: true });
  kbUi.retire = h('button', { type: 'button', class: 'btn btn-quiet', testid: 'kb-retire', text: 'Retire…', onclick: retire });
  kbUi.saveHint = h('p', { class: 'small muted', id: 'kb-save-hint', 'aria-live': 'off' });
  kbUi.conflict = h('div', { class: 'kb-conflict', testid: 'kb-conflict', hidden: true });
  kbUi.problemsHead = h('h3', { id: 'kb-problems-heading' });
  kbUi.problems = h('ul', { class: 'kb-problem-list', testid: 'kb-problems', 'aria-labelledby': 'kb-problems-heading' });
  kbUi.problemsBox = h('div', { class: 'kb-problems', hidden: true }, kbUi.problemsHead, kbUi.problems);
  kbUi.form = h('form', { id: 'kb-form', class: 'kb-form', testid: 'kb-form', novalidate: true, 'aria-labelledby': 'kb-editor-heading' });
  buildFields(kbUi.form, onInput);
  kbUi.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    save();
  });
  kbUi.preview = h('div', { class: 'kb-preview', testid: 'kb-preview' });
  kbUi.other = h('section', { class: 'kb-other', testid: 'kb-other', hidden: true, 'aria-labelledby': 'kb-other-heading' });
  kbUi.work = h('div', { class: 'kb-work', hidden: true },
    h('div', { class: 'kb-actions' }, kbUi.save, kbUi.retire, kbUi.saveHint),
    kbUi.conflict,
    kbUi.problemsBox,
    h('div', { class: 'kb-columns' },
      kbUi.form,
      h('div', { class: 'kb-aside' },
        h('section', { class: 'kb-preview-box', 'aria-labelledby': 'kb-preview-heading' },
          h('h3', { id: 'kb-preview-heading', text: 'Preview, as the chat shows it' }),
          kbUi.preview),
        kbUi.other)));
  window.addEventListener('beforeunload', (ev) => {
    if (kb.dirty) { ev.preventDefault(); ev.returnValue = ''; }
  });
  return h('section', { class: 'kb-pane kb-pane-editor', 'aria-labelledby': 'kb-editor-heading' },
    kbUi.editorHeading, kbUi.editorMeta, kbUi.empty, kbUi.work);
}

async function mayLeave() {
  if (!kb.dirty) return true;
  return confirmDialog('Discard your changes?', 'The article you are editing has changes that are not saved.',
    'Discard the changes', 'Keep editing');
}

function setOpen(open, article, isNew) {
  kb.open = open;
  kb.dirty = false;
  fillForm(article, isNew);
  kbUi.conflict.hidden = true;
  kbUi.empty.hidden = true;
  kbUi.work.hidden = false;
  kbUi.retire.hidden = isNew;
  kbUi.editorHeading.textContent = isNew ? 'New article' : `Edit: ${article.title || open.id}`;
  renderMeta();
  const url = isNew ? '/console/knowledge' : `/console/knowledge?article=${encodeURIComponent(open.id)}`;
  window.history.replaceState(null, '', url);
  kbHooks.openChanged();
}

function renderMeta() {
  const o = kb.open;
  if (!o || !o.id) { kbUi.editorMeta.textContent = 'Not saved yet.'; return; }
  const when = o.modified ? `, last changed ${fmtDateTime(o.modified)}` : '';
  kbUi.editorMeta.replaceChildren(h('code', { text: o.path || o.id }), when);
}

/** Opens article `id` (asks first when the open one has unsaved changes,
 * unless `force`: the editor asked to reload it). */
export async function openArticle(id, force) {
  if (!force && !(await mayLeave())) return;
  const mine = ++openSeq;
  const r = await call('GET', `/api/knowledge/articles/${encodeURIComponent(id)}`);
  if (mine !== openSeq) return;
  if (!r.ok || !r.data) {
    warn(r.status === 404 ? `There is no article "${id}" any more; it may have been retired or renamed.` : failure(r, `The article could not be opened (error ${r.status}).`));
    return;
  }
  const a = r.data;
  setOpen({ id: a.id, etag: a.etag, path: a.path, modified: a.modified, problems: [], local: [], removeKeys: [], rev: 0, checked: 0 }, a, false);
  showPreview(a.html);
  applyProblems(problemsOf(a), null);
  showOther(a);
  say(`Opened “${a.title || a.id}”.`);
  kbUi.editorHeading.focus();
}

/** Starts a new article, with `prefill` ({title, questions}) or blank. */
export async function newArticle(prefill) {
  if (!(await mayLeave())) return;
  openSeq += 1;
  const lang = kbUi.langFilter && kbUi.langFilter.value === 'es' ? 'es' : 'en';
  const a = { title: '', questions: [], lang, body: '', ...(prefill || {}) };
  setOpen({ id: null, etag: null, problems: [], local: [], removeKeys: [], rev: 0, checked: 0 }, a, true);
  showPreview('');
  applyProblems([], null);
  kbUi.other.hidden = true;
  if (prefill) {
    kb.dirty = true;
    await check();
  }
  say(prefill ? 'A new article from the group: check the title, then write the answer.' : 'A new article.');
  kbUi.fields.title.input.focus();
}

/** Adds `text` to the open article's phrasings (not twice). */
export function addPhrasing(text) {
  if (!kb.open) return;
  const input = kbUi.fields.questions.input;
  const have = input.value.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  if (have.some((q) => q.toLowerCase() === text.trim().toLowerCase())) {
    say(`"${text}" is already a phrasing of this article.`);
    return;
  }
  have.push(text.trim());
  input.value = have.join('\n');
  onInput();
  say(`Added "${text}" as a phrasing. Save to make it live.`);
}

/** The draft of open article `o` as the API takes it: {draft, local}. */
function draftOf(o) {
  const { draft, local } = readDraft(!o.id);
  if (o.id) draft.id = o.id;
  if (o.removeKeys.length) draft.remove_keys = [...o.removeKeys];
  return { draft, local };
}

/** The draft being edited, as the try box sends it; null with none open. */
export function currentDraft() {
  return kb.open ? draftOf(kb.open).draft : null;
}

/** Removes an unknown front-matter key from the draft (the file loses it
 * when saved), checks again, and moves focus on from the gone button. */
async function removeKey(key) {
  const o = kb.open;
  if (!o || o.removeKeys.includes(key)) return;
  o.removeKeys.push(key);
  onInput();
  await check();
  if (kb.open !== o) return;
  say(`“${key}” is removed from the draft; save to remove it from the file.`);
  (kbUi.save.disabled ? kbUi.editorHeading : kbUi.save).focus();
}

function onInput() {
  if (!kb.open) return;
  kb.dirty = true;
  kb.open.rev += 1;
  kb.open.local = readDraft(!kb.open.id).local;
  applyProblems(kb.open.problems, kb.open.file);
  window.clearTimeout(checkTimer);
  checkTimer = window.setTimeout(check, CHECK_DELAY_MS);
}

function applyProblems(server, file) {
  const o = kb.open;
  if (!o) return;
  o.problems = server;
  o.file = file;
  showProblems([...o.local, ...server], file, removeKey);
  updateSave();
}

function updateSave() {
  const o = kb.open;
  const blocked = o && (o.problems.length || o.local.length);
  kbUi.save.disabled = !o || !kb.dirty || Boolean(blocked) || Boolean(o.saving);
  kbUi.saveHint.textContent = !o ? ''
    : blocked ? 'Fix the problems to save.'
      : kb.dirty ? 'Unsaved changes.' : 'No changes to save.';
}

function showPreview(html) {
  kbUi.preview.replaceChildren(html ? bubble(html) : h('p', { class: 'muted', text: 'The answer appears here as you write it.' }));
}

/** Sends the draft to the server's checks; shows its problems and preview. */
async function check() {
  window.clearTimeout(checkTimer);
  const o = kb.open;
  if (!o) return;
  const rev = o.rev;
  const { draft, local } = draftOf(o);
  o.local = local;
  const r = await call('POST', '/api/knowledge/check', draft);
  if (kb.open !== o || o.rev !== rev) return;
  if (r.ok && r.data) {
    o.checked = rev;
    applyProblems(problemsOf(r.data), r.data.file);
    showPreview(r.data.html);
  } else if (r.status === 422) {
    o.checked = rev;
    applyProblems(problemsOf(r.data), null);
  } else {
    warn(failure(r, `The draft could not be checked (error ${r.status}).`));
  }
}

async function save() {
  const o = kb.open;
  if (!o || o.saving || !kb.dirty) return;
  if (o.checked !== o.rev) await check();
  if (kb.open !== o) return;
  if (o.problems.length || o.local.length) {
    warn('The article has problems; it was not saved.');
    return;
  }
  const { draft } = draftOf(o);
  o.saving = true;
  updateSave();
  const rev = o.rev;
  const r = o.id
    ? await call('PUT', `/api/knowledge/articles/${encodeURIComponent(o.id)}`, draft, { 'If-Match': o.etag })
    : await call('POST', '/api/knowledge/articles', draft);
  o.saving = false;
  if (kb.open !== o) return;
  if (r.ok && r.data) {
    const wasNew = !o.id;
    Object.assign(o, { id: r.data.id, etag: r.data.etag, path: r.data.path, modified: r.data.modified });
    kb.dirty = o.rev !== rev;
    kbUi.conflict.hidden = true;
    kbUi.fields.id.wrap.hidden = true;
    kbUi.retire.hidden = false;
    kbUi.editorHeading.textContent = `Edit: ${draft.title || o.id}`;
    renderMeta();
    updateSave();
    window.history.replaceState(null, '', `/console/knowledge?article=${encodeURIComponent(o.id)}`);
    const what = `${wasNew ? 'the new article ' : ''}“${draft.title || o.id}”`;
    say(r.data.live
      ? `Saved ${what}. Patients get it now.`
      : `Saved ${what}. Patients get it as soon as the server has reloaded the knowledge, within a few seconds.`);
    await kbHooks.reloadList();
    return;
  }
  updateSave();
  if (r.status === 409 && o.id) return conflict(o, r);
  if (r.status === 422) {
    applyProblems(problemsOf(r.data), o.file);
    warn(`Not saved: ${failure(r, 'the article has problems.')}`);
    return;
  }
  warn(`Not saved. ${failure(r, `The server answered with error ${r.status}.`)}`);
}

function conflict(o, r) {
  const message = failure(r, 'The file was changed on disk since you opened it.');
  const reload = h('button', {
    type: 'button', class: 'btn btn-secondary', testid: 'kb-reload', text: 'Reload the article',
    onclick: () => openArticle(o.id, true),
  });
  kbUi.conflict.replaceChildren(
    h('p', { class: 'kb-conflict-text', text: message }),
    h('p', { text: 'Your changes are still in the form below: copy what you need, then reload the article to see the file as it is now.' }),
    reload);
  kbUi.conflict.hidden = false;
  warn(`Not saved: ${message}`);
}

async function retire() {
  const o = kb.open;
  if (!o || !o.id) return;
  const name = (kb.byId.get(o.id) || {}).title || o.id;
  const ok = await confirmDialog(`Retire “${name}”?`,
    'Patients stop getting this answer. The file is renamed (it ends in .retired) and can be brought back by renaming it.',
    'Retire the article', 'Keep it', { danger: true });
  if (!ok || kb.open !== o) return;
  const r = await call('DELETE', `/api/knowledge/articles/${encodeURIComponent(o.id)}`, undefined, o.etag ? { 'If-Match': o.etag } : {});
  if (r.ok) {
    kb.open = null;
    kb.dirty = false;
    kbUi.work.hidden = true;
    kbUi.empty.hidden = false;
    kbUi.editorHeading.textContent = 'Editor';
    kbUi.editorMeta.textContent = '';
    window.history.replaceState(null, '', '/console/knowledge');
    say(`Retired “${name}”${r.data && r.data.retired ? `; the file is now ${r.data.retired}` : ''}.`);
    kbHooks.openChanged();
    await kbHooks.reloadList();
    kbUi.editorHeading.focus();
    return;
  }
  if (r.status === 409) return conflict(o, r);
  const details = problemsOf(r.data).map((p) => p.message).join(' ');
  warn(`Not retired. ${failure(r, `The server answered with error ${r.status}.`)}${details ? ` ${details}` : ''}`);
}

/** The version in the other language, read-only beside the editor. */
async function showOther(a) {
  kbUi.other.hidden = true;
  const entry = kb.byId.get(a.id) || {};
  const versions = entry.versions && typeof entry.versions === 'object' ? Object.entries(entry.versions) : [];
  const found = versions.find(([lang, id]) => lang !== a.lang && typeof id === 'string');
  if (!found) return;
  const [lang, id] = found;
  const r = await call('GET', `/api/knowledge/articles/${encodeURIComponent(id)}`);
  if (!kb.open || kb.open.id !== a.id || !r.ok || !r.data) return;
  const v = r.data;
  const qs = Array.isArray(v.questions) ? v.questions : [];
  kbUi.other.replaceChildren(
    h('h3', { id: 'kb-other-heading', text: `${LANG_NAMES[lang] || lang} version (read-only)` }),
    h('p', { lang, class: 'kb-other-title', text: v.title || id }),
    qs.length ? h('ul', { class: 'kb-other-questions', lang, 'aria-label': 'Its phrasings' }, qs.map((q) => h('li', { text: q }))) : null,
    bubble(v.html, { lang }),
    h('button', {
      type: 'button', class: 'btn btn-secondary btn-small', testid: 'kb-open-other',
      text: `Open the ${LANG_NAMES[lang] || lang} version`, onclick: () => openArticle(id),
    }));
  kbUi.other.hidden = false;
}
