/*
 * Frontdesk editors' workspace (/console/knowledge), for editor and admin
 * accounts: the articles, an editor with checks as you type and a preview,
 * a box to try questions against the saved knowledge and the draft, and the
 * questions patients asked that the bot could not answer.
 *
 * Served at /console/knowledge.js; the code is in widget/console/kb-*.js
 * (served at /console/js/NAME, see kb-state.js for their order) and uses
 * the console's DOM helpers. Everything is built with createElement and
 * textContent; the answer preview is rebuilt node by node from the
 * server's sanitized html with the widget's own rules (kb-preview.js).
 *
 * API: /api/me, /api/knowledge/articles[/{id}], /api/knowledge/check,
 * /api/knowledge/try, /api/insights (docs/knowledge-format.md).
 *
 * Stable data-testid hooks for browser tests: kb-status, kb-alert,
 * kb-signin, kb-denied, kb-filter, kb-lang-filter, kb-list, kb-row
 * (data-id), kb-row-stats, kb-missing, kb-new, kb-empty, kb-meta, kb-form,
 * kb-id, kb-title, kb-questions, kb-tags, kb-lang, kb-related,
 * kb-translation-of, kb-min-confidence, kb-owner, kb-review-by, kb-body,
 * kb-save, kb-retire, kb-confirm, kb-confirm-yes, kb-confirm-no,
 * kb-problems, kb-conflict, kb-reload, kb-preview, kb-other, kb-open-other,
 * kb-try-form, kb-try-question, kb-try-lang, kb-try-submit, kb-try-saved,
 * kb-try-draft, kb-try-decision (data-decision), kb-try-confidence,
 * kb-try-article (data-id), kb-try-matched, kb-try-candidates, kb-asked,
 * kb-group, kb-add-phrasing (data-text), kb-new-from-group.
 */
// Relative to this file's URL: /console/js/kb-main.js (widget/console/kb-main.js).
import './js/kb-main.js';
