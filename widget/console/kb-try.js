/*
 * The editors' workspace: "Try a question". Asks the engine as a patient
 * would, against the saved knowledge and against the draft in the editor,
 * and shows both answers side by side. Trying a draft changes nothing
 * patients get.
 */
import { h, hiddenText } from './dom.js';
import { call, failure } from './kb-api.js';
import { kb, kbHooks, kbUi } from './kb-state.js';

const DECISIONS = {
  answer: 'Answers with an article',
  clarify: 'Offers choices',
  escalate: 'Hands over to a person',
  emergency: 'Emergency guidance',
};

// Why the article was chosen when none of its phrasings shares a word.
const MATCHED_BY = {
  meaning: 'No phrasing shares its words: matched by meaning.',
  answer: 'No phrasing shares its words: matched by the words of its answer.',
};

let seq = 0;

export function buildTry() {
  kbUi.tryQuestion = h('input', {
    type: 'text', id: 'kb-try-question', testid: 'kb-try-question', autocomplete: 'off',
    maxlength: '500', required: true,
  });
  kbUi.tryLang = h('select', { id: 'kb-try-lang', testid: 'kb-try-lang' },
    h('option', { value: '', text: 'Detect' }),
    h('option', { value: 'en', text: 'English' }),
    h('option', { value: 'es', text: 'Spanish' }));
  kbUi.tryError = h('p', { class: 'form-error', id: 'kb-try-error' });
  kbUi.trySaved = h('section', { class: 'kb-result', testid: 'kb-try-saved', 'aria-labelledby': 'kb-try-saved-h' },
    h('h3', { id: 'kb-try-saved-h', text: 'Saved knowledge' }),
    h('p', { class: 'small muted', text: 'What patients get now.' }));
  kbUi.tryDraft = h('section', { class: 'kb-result', testid: 'kb-try-draft', 'aria-labelledby': 'kb-try-draft-h' },
    h('h3', { id: 'kb-try-draft-h', text: 'With your draft' }),
    h('p', { class: 'small muted', text: 'Open or start an article to try your changes.' }));
  const form = h('form', { class: 'kb-try-form', testid: 'kb-try-form', novalidate: true },
    h('div', { class: 'field kb-grow' },
      h('label', { for: 'kb-try-question', text: 'Question, as a patient would ask it' }),
      kbUi.tryQuestion),
    h('div', { class: 'field' },
      h('label', { for: 'kb-try-lang', text: 'Language' }),
      kbUi.tryLang),
    h('button', { type: 'submit', class: 'btn btn-secondary', testid: 'kb-try-submit', text: 'Try' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    tryQuestion();
  });
  return h('section', { class: 'kb-card', 'aria-labelledby': 'kb-try-heading' },
    h('h2', { id: 'kb-try-heading', text: 'Try a question' }),
    form,
    kbUi.tryError,
    h('div', { class: 'kb-results', 'aria-live': 'polite', 'aria-busy': 'false' }, kbUi.trySaved, kbUi.tryDraft));
}

function pct(x) {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : '—';
}

function title(id, fallback) {
  const a = kb.byId.get(id);
  return a && a.title ? a.title : (fallback || id);
}

function resultBody(r) {
  const decision = String(r.decision || '');
  const rows = [
    h('p', { class: `kb-decision kb-decision-${decision}`, testid: 'kb-try-decision', 'data-decision': decision },
      DECISIONS[decision] || decision),
    h('p', null, 'Confidence: ', h('strong', { testid: 'kb-try-confidence', text: pct(Number(r.confidence)) })),
  ];
  if (r.article) {
    rows.push(h('p', { testid: 'kb-try-article', 'data-id': r.article }, 'Article: ',
      h('strong', { text: title(r.article) }), ' ', h('code', { class: 'kb-id', text: r.article })));
  }
  const m = r.matched && typeof r.matched === 'object' ? r.matched : null;
  if (m && typeof m.phrasing === 'string') {
    rows.push(h('p', { testid: 'kb-try-matched' }, 'Best matching phrasing: ',
      h('q', { text: m.phrasing }),
      m.article && m.article !== r.article ? ` (in ${title(m.article)})` : ''));
  } else if (m && MATCHED_BY[m.by]) {
    rows.push(h('p', { testid: 'kb-try-matched', text: MATCHED_BY[m.by] }));
  }
  if (decision === 'emergency') {
    const kind = [r.category, r.kind].filter((x) => typeof x === 'string' && x).join(', ');
    if (kind) rows.push(h('p', null, `Safety rule: ${kind}`));
  }
  if (r.urgent_care) rows.push(h('p', null, 'Also suggests care today (urgent care).'));
  const cands = Array.isArray(r.candidates) ? r.candidates.slice(0, 5) : [];
  if (cands.length) {
    rows.push(h('p', { class: 'small muted', text: 'Candidates:' }));
    rows.push(h('ol', { class: 'kb-candidates', testid: 'kb-try-candidates' }, cands.map((c) => h('li', null,
      h('span', { text: c.title || title(c.id) }), ' ',
      h('span', { class: 'muted' }, hiddenText('score '), pct(Number(c.score)))))));
  }
  return rows;
}

// `question` stays on the box (data-question) so tests can tell answers apart.
function show(box, note, body, question) {
  box.replaceChildren(box.firstElementChild, h('p', { class: 'small muted', text: note }), ...body);
  if (question) box.setAttribute('data-question', question);
  else box.removeAttribute('data-question');
}

async function ask(question, lang, draft) {
  const body = { question };
  if (lang) body.lang = lang;
  if (draft) body.draft = draft;
  return call('POST', '/api/knowledge/try', body);
}

/** Runs the question against the saved knowledge and, with an article
 * open, against its draft, side by side. */
export async function tryQuestion() {
  const question = kbUi.tryQuestion.value.trim();
  if (!question) {
    kbUi.tryError.textContent = 'Type a question to try.';
    kbUi.tryQuestion.setAttribute('aria-invalid', 'true');
    kbUi.tryQuestion.setAttribute('aria-describedby', 'kb-try-error');
    kbUi.tryQuestion.focus();
    return;
  }
  kbUi.tryError.textContent = '';
  kbUi.tryQuestion.removeAttribute('aria-invalid');
  const lang = kbUi.tryLang.value;
  const draft = kbHooks.currentDraft();
  const mine = ++seq;
  kbUi.trySaved.parentElement.setAttribute('aria-busy', 'true');
  show(kbUi.trySaved, 'Asking…', [], null);
  show(kbUi.tryDraft, draft ? 'Asking…' : 'Open or start an article to try your changes.', [], null);
  const [saved, drafted] = await Promise.all([
    ask(question, lang, null),
    draft ? ask(question, lang, draft) : Promise.resolve(null),
  ]);
  if (mine !== seq) return;
  kbUi.trySaved.parentElement.setAttribute('aria-busy', 'false');
  if (saved.ok && saved.data) show(kbUi.trySaved, 'What patients get now.', resultBody(saved.data), question);
  else show(kbUi.trySaved, failure(saved, `The question could not be tried (error ${saved.status}).`), [], question);
  if (!drafted) {
    show(kbUi.tryDraft, 'Open or start an article to try your changes.', [], question);
  } else if (drafted.ok && drafted.data) {
    show(kbUi.tryDraft, 'Only you see this; patients get the saved knowledge.', resultBody(drafted.data), question);
  } else {
    const msg = drafted.status === 422
      ? 'Your draft cannot be read yet; fix the problems shown in the editor.'
      : failure(drafted, `The draft could not be tried (error ${drafted.status}).`);
    show(kbUi.tryDraft, msg, [], question);
  }
}
