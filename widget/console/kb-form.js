/*
 * The editors' workspace: the article form. Its fields, reading them into
 * the draft the API takes, filling them from an article, and showing each
 * problem beside its field and in one list with its line number.
 */
import { h } from './dom.js';
import { kbUi } from './kb-state.js';

/** The form's fields, in the order of the front matter. */
const FIELDS = [
  { key: 'id', label: 'Id', kind: 'text', hint: 'Letters, digits, "-", "_" and "."; leave empty to make one from the title. Cannot change later.', newOnly: true },
  { key: 'title', label: 'Title (the main question)', kind: 'text', max: 300 },
  { key: 'questions', label: 'Other ways patients ask it', kind: 'lines', hint: 'One phrasing per line.' },
  { key: 'tags', label: 'Tags', kind: 'list', hint: 'Separated by commas.' },
  { key: 'lang', label: 'Language', kind: 'select' },
  { key: 'related', label: 'Related articles', kind: 'list', hint: 'Article ids, separated by commas; offered as follow-ups.' },
  { key: 'translation_of', label: 'Translation of', kind: 'text', hint: 'The id of the article this one translates, if any.' },
  { key: 'min_confidence', label: 'Minimum confidence', kind: 'number', hint: 'A number from 0 to 1 for risky topics; empty for the usual rule.' },
  { key: 'owner', label: 'Owner', kind: 'text', hint: 'Who keeps this article correct.', max: 200 },
  { key: 'review_by', label: 'Review by', kind: 'date', hint: 'The check reports the article once this day has passed.' },
  { key: 'body', label: 'Answer (Markdown)', kind: 'body' },
];

export const FIELD_KEYS = FIELDS.map((f) => f.key);

function control(f, id, describedBy) {
  const common = { id, name: f.key, testid: `kb-${f.key.replace(/_/g, '-')}`, 'aria-describedby': describedBy };
  if (f.kind === 'lines') return h('textarea', { ...common, rows: '4', spellcheck: 'true' });
  if (f.kind === 'body') return h('textarea', { ...common, rows: '12', class: 'kb-body-input', spellcheck: 'true' });
  if (f.kind === 'select') {
    return h('select', common,
      h('option', { value: 'en', text: 'English (en)' }),
      h('option', { value: 'es', text: 'Spanish (es)' }));
  }
  if (f.kind === 'date') return h('input', { ...common, type: 'date' });
  if (f.kind === 'number') return h('input', { ...common, type: 'text', inputmode: 'decimal', autocomplete: 'off' });
  return h('input', { ...common, type: 'text', autocomplete: 'off', maxlength: f.max ? String(f.max) : null });
}

/** Builds the fields into `form`; `onInput` runs on every change. */
export function buildFields(form, onInput) {
  kbUi.fields = {};
  for (const f of FIELDS) {
    const id = `kb-f-${f.key}`;
    const hintId = f.hint ? `${id}-hint` : null;
    const errId = `${id}-problems`;
    const input = control(f, id, [hintId, errId].filter(Boolean).join(' '));
    input.addEventListener('input', onInput);
    const errors = h('ul', { class: 'kb-field-problems', id: errId });
    const wrap = h('div', { class: `field kb-field kb-field-${f.key}` },
      h('label', { for: id, text: f.label }),
      input,
      f.hint ? h('p', { class: 'small muted', id: hintId, text: f.hint }) : null,
      errors);
    kbUi.fields[f.key] = { input, errors, wrap, def: f };
    form.append(wrap);
  }
}

function list(text, sep) {
  return String(text).split(sep).map((s) => s.trim()).filter(Boolean);
}

function orNull(text) {
  const t = String(text).trim();
  return t ? t : null;
}

/** The draft in the form: {draft, local}, where `local` lists problems
 * found before asking the server (a confidence that is not a number). */
export function readDraft(isNew) {
  const v = (k) => kbUi.fields[k].input.value;
  const local = [];
  let min = null;
  const raw = v('min_confidence').trim();
  if (raw) {
    min = Number(raw.replace(',', '.'));
    if (!Number.isFinite(min)) {
      local.push({ line: null, field: 'min_confidence', message: 'min_confidence must be a number from 0 to 1.' });
      min = null;
    }
  }
  const draft = {
    title: v('title').trim(),
    questions: list(v('questions'), /\r?\n/),
    tags: list(v('tags'), ','),
    lang: v('lang') || 'en',
    related: list(v('related'), ','),
    translation_of: orNull(v('translation_of')),
    min_confidence: min,
    owner: orNull(v('owner')),
    review_by: orNull(v('review_by')),
    body: v('body'),
  };
  if (isNew && v('id').trim()) draft.id = v('id').trim();
  return { draft, local };
}

/** Fills the form from an article (or a blank one); `isNew` shows the id. */
export function fillForm(a, isNew) {
  const set = (k, value) => { kbUi.fields[k].input.value = value; };
  set('id', isNew ? (a.id || '') : '');
  set('title', a.title || '');
  set('questions', (Array.isArray(a.questions) ? a.questions : []).join('\n'));
  set('tags', (Array.isArray(a.tags) ? a.tags : []).join(', '));
  set('lang', a.lang === 'es' ? 'es' : 'en');
  set('related', (Array.isArray(a.related) ? a.related : []).join(', '));
  set('translation_of', a.translation_of || '');
  set('min_confidence', Number.isFinite(a.min_confidence) ? String(a.min_confidence) : '');
  set('owner', a.owner || '');
  set('review_by', a.review_by || '');
  set('body', a.body || '');
  kbUi.fields.id.wrap.hidden = !isNew;
}

/** The front-matter key a file line belongs to (for problems the server
 * gives without a field), from the file text the check returns. */
function fieldOfLine(file, line) {
  if (!file || !line) return null;
  const lines = String(file).split('\n');
  let fences = 0;
  let key = null;
  for (let i = 0; i < lines.length && i < line; i += 1) {
    const l = lines[i].trim();
    if (l === '+++' && fences < 2) { fences += 1; key = null; continue; }
    if (fences >= 2) return 'body';
    const m = /^([a-z_]+)\s*=/.exec(l);
    if (m) key = m[1];
  }
  return fences >= 2 ? 'body' : key;
}

/** Shows `problems` beside their fields and as one list; a problem about
 * a key the form has no field for gets a button that calls
 * `onRemoveKey(key)`. */
export function showProblems(problems, file, onRemoveKey) {
  for (const { input, errors } of Object.values(kbUi.fields)) {
    errors.replaceChildren();
    input.removeAttribute('aria-invalid');
  }
  kbUi.problems.replaceChildren();
  kbUi.problemsBox.hidden = !problems.length;
  for (const p of problems) {
    const field = p.field && kbUi.fields[p.field] ? p.field : fieldOfLine(file, p.line);
    const text = p.line ? `line ${p.line}: ${p.message}` : p.message;
    const remove = p.key && onRemoveKey ? h('button', {
      type: 'button', class: 'btn btn-secondary btn-small', testid: 'kb-remove-key', 'data-key': p.key,
      text: `Remove “${p.key}” from the file`,
      onclick: () => onRemoveKey(p.key),
    }) : null;
    kbUi.problems.append(h('li', {}, text, remove ? ' ' : null, remove));
    const target = field && kbUi.fields[field] ? kbUi.fields[field] : null;
    if (target) {
      target.errors.append(h('li', { class: 'form-error', text }));
      target.input.setAttribute('aria-invalid', 'true');
    }
  }
  kbUi.problemsHead.textContent = problems.length === 1
    ? '1 problem to fix before saving'
    : `${problems.length} problems to fix before saving`;
}
