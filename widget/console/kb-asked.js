/*
 * The editors' workspace: "What patients asked", the groups of questions
 * the bot could not answer (from /api/insights, last 30 days). With an
 * article open, each example can be added to it as a phrasing; a group can
 * start a new article.
 */
import { h } from './dom.js';
import { kb, kbHooks, kbUi } from './kb-state.js';

export function buildAsked() {
  kbUi.asked = h('ol', { class: 'kb-groups', testid: 'kb-asked', 'aria-labelledby': 'kb-asked-heading' });
  kbUi.askedHint = h('p', { class: 'small muted', id: 'kb-asked-hint' });
  return h('section', { class: 'kb-card', 'aria-labelledby': 'kb-asked-heading' },
    h('h2', { id: 'kb-asked-heading', text: 'What patients asked' }),
    h('p', { class: 'small muted', text: 'Questions the bot could not answer in the last 30 days, grouped by shared words. Names, dates, contact details and health words are removed.' }),
    kbUi.askedHint,
    kbUi.asked);
}

function count(n) {
  return Number.isFinite(n) ? `${n} ${n === 1 ? 'question' : 'questions'}` : '';
}

/** Draws the groups; the buttons follow whether an article is open. */
export function renderAsked() {
  if (!kbUi.asked) return;
  const open = kb.open;
  const target = open && open.id ? (kb.byId.get(open.id) || {}).title || open.id : null;
  kbUi.askedHint.textContent = target
    ? `“Add as a phrasing” adds the question to “${target}”.`
    : 'Open an article to add these questions to it as phrasings.';
  if (!kb.groups.length) {
    kbUi.asked.replaceChildren(h('li', { class: 'empty', text: 'No unanswered questions in the last 30 days.' }));
    return;
  }
  kbUi.asked.replaceChildren(...kb.groups.map((g, gi) => {
    const label = String(g.label || 'Unlabelled group');
    const examples = (Array.isArray(g.examples) ? g.examples : []).filter((e) => typeof e === 'string' && e.trim());
    const headId = `kb-group-${gi}`;
    return h('li', { class: 'kb-group', testid: 'kb-group' },
      h('p', { class: 'kb-group-head' },
        h('span', { class: 'kb-group-label', id: headId, text: label }),
        h('span', { class: 'muted', text: count(Number(g.count)) })),
      h('ul', { class: 'kb-examples', 'aria-labelledby': headId }, examples.map((ex) => h('li', null,
        h('q', { text: ex }),
        h('button', {
          type: 'button', class: 'btn btn-quiet btn-small', testid: 'kb-add-phrasing', 'data-text': ex,
          disabled: !target, 'aria-label': `Add as a phrasing: ${ex}`,
          onclick: () => kbHooks.addPhrasing(ex),
        }, 'Add as a phrasing')))),
      h('button', {
        type: 'button', class: 'btn btn-link', testid: 'kb-new-from-group',
        'aria-label': `New article from this group: ${label}`,
        onclick: () => kbHooks.newArticle({ title: examples[0] || label, questions: examples.slice(1) }),
      }, 'New article from this group'));
  }));
}

/** Takes the unanswered groups of an insights answer. */
export function setGroups(data) {
  const k = data && data.knowledge ? data.knowledge : {};
  kb.groups = Array.isArray(k.unanswered) ? k.unanswered.filter((g) => g && typeof g === 'object') : [];
  kb.stats = new Map((Array.isArray(k.answers) ? k.answers : [])
    .filter((a) => a && typeof a.article === 'string')
    .map((a) => [a.article, { served: a.served, helpful: a.helpful, unhelpful: a.unhelpful }]));
  renderAsked();
}
