/*
 * Entry of the editors' workspace (loaded through /console/knowledge.js):
 * checks who is signed in, builds the three columns, loads the articles
 * and the insights figures, and opens the article named in the address.
 */
import { h } from './dom.js';
import { hooks } from './state.js';
import { kb, kbHooks, kbUi } from './kb-state.js';
import { call, failure, warn } from './kb-api.js';
import { buildList, renderList, setArticles } from './kb-list.js';
import { buildTry } from './kb-try.js';
import { buildAsked, renderAsked, setGroups } from './kb-asked.js';
import { addPhrasing, buildEditor, currentDraft, newArticle, openArticle } from './kb-editor.js';

async function reloadList() {
  const r = await call('GET', '/api/knowledge/articles');
  if (r.ok && Array.isArray(r.data)) setArticles(r.data);
  else warn(failure(r, `The list of articles could not be loaded (error ${r.status}).`));
}

// The console's api.js reports a session that ended (a 401) here. With
// the workspace showing, the draft stays and each error says to sign in
// again in another tab (kb-api.js `warn`).
hooks.sessionEnded = () => {
  if (!kbUi.work) return signInMessage();
  kb.signedOut = true;
  return undefined;
};

Object.assign(kbHooks, {
  openArticle,
  newArticle,
  addPhrasing,
  currentDraft,
  reloadList,
  openChanged() {
    renderList();
    renderAsked();
  },
});

/** Replaces the page with a message (not signed in, not allowed). */
function stop(testid, ...parts) {
  kbUi.main.setAttribute('aria-busy', 'false');
  kbUi.main.replaceChildren(h('div', { class: 'card kb-stop', testid, role: 'alert' }, ...parts));
}

function signInMessage() {
  stop('kb-signin',
    h('h2', { class: 'card-title', text: 'Please sign in' }),
    h('p', null, 'You are not signed in. ', h('a', { href: '/console', text: 'Sign in on the agent console' }),
      ', then come back to this page.'));
}

function deniedMessage() {
  stop('kb-denied',
    h('h2', { class: 'card-title', text: 'This page is for editors and admins' }),
    h('p', { text: 'The editors\' workspace changes the answers patients get, so only editor and admin accounts can open it. Ask an admin if you need to edit the knowledge.' }),
    h('p', null, h('a', { href: '/console', text: 'Back to the agent console' })));
}

async function boot() {
  kbUi.main = document.getElementById('main');
  kbUi.status = document.getElementById('kb-status');
  kbUi.alert = document.getElementById('kb-alert');
  const me = await call('GET', '/api/me');
  if (me.network) {
    stop('kb-error', h('p', { text: failure(me, '') }));
    return;
  }
  if (me.status === 401 || !me.ok || !me.data) return signInMessage();
  kb.me = { name: String(me.data.name), role: String(me.data.role) };
  document.getElementById('kb-who').textContent = `Signed in as ${kb.me.name}`;
  if (kb.me.role !== 'editor' && kb.me.role !== 'admin') return deniedMessage();

  const [articles, insights] = await Promise.all([
    call('GET', '/api/knowledge/articles'),
    call('GET', '/api/insights'),
  ]);
  if (articles.status === 401) return signInMessage();
  if (articles.status === 403) return deniedMessage();
  kbUi.main.replaceChildren(
    h('div', { class: 'kb-layout' },
      buildList(),
      buildEditor(),
      h('div', { class: 'kb-pane kb-pane-side' }, buildTry(), buildAsked())));
  kbUi.main.setAttribute('aria-busy', 'false');
  if (insights.ok && insights.data) setGroups(insights.data);
  else setGroups(null);
  if (articles.ok && Array.isArray(articles.data)) setArticles(articles.data);
  else warn(failure(articles, `The list of articles could not be loaded (error ${articles.status}).`));
  if (!insights.ok) warn(failure(insights, 'The served and helpful counts and the unanswered questions could not be loaded.'));
  const wanted = new URLSearchParams(window.location.search).get('article');
  if (wanted && kb.byId.has(wanted)) await openArticle(wanted);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
