/*
 * The editors' workspace: the searchable list of articles (with how often
 * each was served and rated helpful) and the articles that have no version
 * in the other language.
 */
import { h, hiddenText } from './dom.js';
import { fmtDateTime } from './format.js';
import { kb, kbHooks, kbUi, LANG_NAMES, OTHER_LANG } from './kb-state.js';

/** The left column: filters, the list, the missing translations. */
export function buildList() {
  kbUi.filter = h('input', {
    type: 'search', id: 'kb-filter', testid: 'kb-filter', autocomplete: 'off',
    'aria-describedby': 'kb-filter-hint', oninput: renderList,
  });
  kbUi.langFilter = h('select', { id: 'kb-lang-filter', testid: 'kb-lang-filter', onchange: renderList },
    h('option', { value: 'all', text: 'All languages' }),
    h('option', { value: 'en', text: 'English' }),
    h('option', { value: 'es', text: 'Spanish' }));
  kbUi.listCount = h('p', { class: 'small muted', id: 'kb-list-count', role: 'status' });
  kbUi.list = h('ul', { class: 'kb-list', testid: 'kb-list', 'aria-labelledby': 'kb-list-heading' });
  kbUi.missingCount = h('span', { class: 'muted' });
  kbUi.missing = h('ul', { class: 'kb-missing', testid: 'kb-missing', 'aria-labelledby': 'kb-missing-heading' });
  kbUi.newButton = h('button', {
    type: 'button', class: 'btn btn-primary', testid: 'kb-new', text: 'New article',
    onclick: () => kbHooks.newArticle(null),
  });
  return h('section', { class: 'kb-pane kb-pane-list', 'aria-labelledby': 'kb-list-heading' },
    h('div', { class: 'kb-pane-head' },
      h('h2', { id: 'kb-list-heading', text: 'Articles' }),
      kbUi.newButton),
    h('div', { class: 'kb-filters', role: 'search' },
      h('div', { class: 'field' },
        h('label', { for: 'kb-filter', text: 'Find an article' }),
        kbUi.filter,
        h('p', { class: 'small muted', id: 'kb-filter-hint', text: 'Searches titles, ids and tags.' })),
      h('div', { class: 'field' },
        h('label', { for: 'kb-lang-filter', text: 'Language' }),
        kbUi.langFilter)),
    kbUi.listCount,
    kbUi.list,
    // Closed at first: on a phone it would stand between the list and the
    // editor, and most articles of a new clinic have one language only.
    h('details', { class: 'kb-missing-box' },
      h('summary', { id: 'kb-missing-heading' }, 'Missing translations ', kbUi.missingCount),
      h('p', { class: 'small muted', text: 'Articles with no version in the other language.' }),
      kbUi.missing));
}

/** The article ids with no version in the other language. */
function untranslated(a) {
  const other = OTHER_LANG[a.lang] || 'en';
  return !(a.versions && typeof a.versions === 'object' && a.versions[other]);
}

function matches(a, text, lang) {
  if (lang !== 'all' && a.lang !== lang) return false;
  if (!text) return true;
  const hay = [a.title, a.id, ...(Array.isArray(a.tags) ? a.tags : [])].join(' ').toLowerCase();
  return text.split(/\s+/).every((w) => hay.includes(w));
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function row(a) {
  const s = kb.stats.get(a.id);
  const open = kb.open && kb.open.id === a.id;
  const tags = Array.isArray(a.tags) && a.tags.length ? a.tags.join(', ') : 'no tags';
  const button = h('button', {
    type: 'button', class: 'kb-row', testid: 'kb-row', 'data-id': a.id,
    'aria-current': open ? 'true' : null, onclick: () => kbHooks.openArticle(a.id),
  },
  h('span', { class: 'kb-row-title', text: a.title || a.id }),
  h('span', { class: 'kb-row-meta' },
    h('span', { class: 'badge badge-lang', title: LANG_NAMES[a.lang] || a.lang, text: String(a.lang || '').toUpperCase() }),
    h('code', { class: 'kb-id', text: a.id }),
    untranslated(a) ? h('span', { class: 'badge badge-missing', text: 'no translation' }) : null),
  h('span', { class: 'kb-row-meta small' },
    h('span', null, hiddenText('Tags: '), tags),
    a.modified ? h('span', null, hiddenText('Last change: '), h('time', { datetime: a.modified, text: fmtDateTime(a.modified) })) : null),
  h('span', { class: 'kb-row-meta small', testid: 'kb-row-stats' },
    s ? `Served ${s.served || 0} · helpful ${s.helpful || 0}` : 'Not served in the last 30 days'));
  return h('li', null, button);
}

/** Draws the list and the missing translations from `kb`. */
export function renderList() {
  if (!kbUi.list) return;
  const text = kbUi.filter.value.trim().toLowerCase();
  const lang = kbUi.langFilter.value;
  const shown = kb.articles.filter((a) => matches(a, text, lang));
  kbUi.list.replaceChildren(...shown.map(row));
  if (!shown.length) {
    kbUi.list.append(h('li', { class: 'empty', text: kb.articles.length ? 'No article matches.' : 'There are no articles yet.' }));
  }
  kbUi.listCount.textContent = shown.length === kb.articles.length
    ? plural(kb.articles.length, 'article', 'articles')
    : `${shown.length} of ${plural(kb.articles.length, 'article', 'articles')}`;

  const missing = kb.articles.filter(untranslated);
  kbUi.missingCount.textContent = `(${missing.length})`;
  kbUi.missing.replaceChildren(...missing.map((a) => h('li', null,
    h('button', {
      type: 'button', class: 'btn btn-link', 'data-id': a.id,
      onclick: () => kbHooks.openArticle(a.id),
    }, a.title || a.id, hiddenText(` (${LANG_NAMES[a.lang] || a.lang}, no ${LANG_NAMES[OTHER_LANG[a.lang] || 'en']} version)`)))));
  if (!missing.length) kbUi.missing.append(h('li', { class: 'empty', text: 'Every article has both languages.' }));
}

/** Replaces the list with a fresh one from the server's answer. */
export function setArticles(list) {
  kb.articles = Array.isArray(list) ? list.filter((a) => a && typeof a.id === 'string') : [];
  kb.byId = new Map(kb.articles.map((a) => [a.id, a]));
  renderList();
}
