/*
 * The editors' workspace: an article body as the patient's widget shows it.
 * The server's html is already sanitized (ammonia); this builds fresh nodes
 * from it with the widget's own rules (widget.js, `sanitize`: the same kept
 * tags, headings as bold paragraphs, only checked links), so the preview
 * looks like the chat bubble and nothing from the file is set as HTML on
 * the page. widget.js is one file clinics pin by hash, so the rules are
 * repeated here rather than shared (tests/api/console_modules.rs fails
 * when the two lists differ).
 */
import { h } from './dom.js';

const KEEP = new Set(['p', 'br', 'strong', 'em', 'b', 'i', 'ul', 'ol', 'li', 'code', 'blockquote']);
const HEAD = new Set(['h1', 'h2', 'h3', 'h4']);
const SKIP = new Set(['script', 'style', 'template', 'noscript', 'iframe', 'object', 'embed',
  'svg', 'math', 'head', 'title', 'textarea', 'select', 'button', 'input', 'frame', 'frameset']);
const BLOCK = new Set(['div', 'section', 'article', 'header', 'footer', 'tr', 'table', 'dl',
  'dt', 'dd', 'figure', 'pre', 'h5', 'h6', 'hr', 'nav', 'aside', 'main', 'address']);
const SCHEMES = ['http:', 'https:', 'mailto:', 'tel:'];

/** A fragment of the nodes the widget would show for `html`. */
export function widgetNodes(html) {
  // DOMParser documents are inert: nothing in them loads or runs.
  const doc = new DOMParser().parseFromString(String(html || ''), 'text/html');
  const out = document.createDocumentFragment();
  (function walk(src, dst, depth) {
    for (const n of Array.from(src.childNodes)) {
      if (n.nodeType === 3) { dst.append(document.createTextNode(n.data)); continue; }
      if (n.nodeType !== 1 || depth > 40) continue;
      const tag = n.localName;
      if (SKIP.has(tag)) continue;
      let el = null;
      let inner = null;
      if (KEEP.has(tag)) {
        el = document.createElement(tag);
        inner = el;
      } else if (HEAD.has(tag)) {
        inner = document.createElement('strong');
        el = h('p', { class: 'h' }, inner);
      } else if (tag === 'a') {
        let url = null;
        const raw = (n.getAttribute('href') || '').trim();
        try { url = raw ? new URL(raw, window.location.href) : null; } catch (e) { url = null; }
        if (url && SCHEMES.includes(url.protocol)) {
          el = h('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' });
          inner = el;
        }
      }
      if (el) { walk(n, inner, depth + 1); dst.append(el); continue; }
      walk(n, dst, depth + 1);
      if (BLOCK.has(tag)) dst.append(document.createElement('br'));
      else if (tag === 'td' || tag === 'th') dst.append(document.createTextNode(' '));
    }
  }(doc.body, out, 0));
  return out;
}

/** A read-only chat bubble holding `html` as the widget shows it. */
export function bubble(html, attrs) {
  const b = h('div', { class: 'kb-bubble', ...(attrs || {}) });
  b.append(widgetNodes(html));
  return b;
}
