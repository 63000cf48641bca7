/*
 * The editors' workspace (/console/knowledge): its shared state. Plain data
 * only; no module-level code runs anything.
 *
 * The workspace's modules import only downwards in this order, so there is
 * no import cycle: dom, state, format, api (the console's), kb-state,
 * kb-api, kb-dialog, kb-preview, kb-list, kb-try, kb-asked, kb-form,
 * kb-editor, kb-main. Calls that go up the
 * order go through `kbHooks`, which kb-main.js fills before anything runs.
 */

export const LANG_NAMES = { en: 'English', es: 'Spanish' };
export const OTHER_LANG = { en: 'es', es: 'en' };

export const kb = {
  me: null, // {name, role}
  articles: [], // GET /api/knowledge/articles, sorted by path
  byId: new Map(), // id -> list entry
  stats: new Map(), // article id -> {served, helpful, unhelpful} (insights)
  groups: [], // insights' unanswered-question groups
  filter: { text: '', lang: 'all' },
  // The article in the editor: null, or {id (null while new), etag, loaded
  // (the fields as opened or last saved), problems, checking, checkSeq}.
  open: null,
  dirty: false,
  signedOut: false, // a call answered 401 while the workspace showed
};

/** Element references of the page (filled by each module's build()). */
export const kbUi = {};

/**
 * Calls that go up the import order:
 *   openArticle(id)             kb-editor.js (kb-list.js, kb-asked.js)
 *   newArticle(prefill)         kb-editor.js (kb-list.js, kb-asked.js)
 *   addPhrasing(text)           kb-editor.js (kb-asked.js)
 *   currentDraft()              kb-editor.js (kb-try.js): the draft object, or null
 *   reloadList()                kb-main.js (kb-editor.js): fetch the list again
 *   openChanged()               kb-main.js: an article was opened or closed
 */
export const kbHooks = {};
