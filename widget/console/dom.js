/*
 * DOM helpers, shared by the agent console, the insights page and the
 * editors' workspace. Elements are built with createElement and
 * textContent; nothing here sets HTML.
 */

/** Builds an element. attrs: class, text, testid, on{Event}, hidden,
 * disabled, value, checked, and any other attribute. Never sets HTML. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = String(v);
      else if (k === 'testid') el.setAttribute('data-testid', v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (k === 'hidden' || k === 'disabled' || k === 'checked' || k === 'required') el[k] = Boolean(v);
      else if (k === 'value') el.value = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A small count badge: visible number plus hidden words for screen readers. */
export function setCount(el, n, words) {
  el.hidden = !n;
  clear(el);
  if (n) append(el, [hiddenText(', '), String(n), hiddenText(` ${words}`)]);
}

export function hiddenText(text) {
  return h('span', { class: 'visually-hidden', text });
}

let idCounter = 0;
export function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}
