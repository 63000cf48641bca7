/*
 * Screen-reader announcements (the #announcer live region) and toasts.
 */
import { h, hiddenText } from './dom.js';
import { ui } from './state.js';

export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  const p = h('p', { text });
  // Appending (rather than replacing) lets several announcements queue up.
  window.setTimeout(() => region.appendChild(p), 60);
  window.setTimeout(() => p.remove(), 15000);
}

export function toast(text, kind) {
  if (!ui.toasts) return;
  const close = h('button', { type: 'button', class: 'toast-close' }, h('span', { 'aria-hidden': 'true', text: '×' }), hiddenText('Dismiss'));
  const t = h('div', { class: `toast${kind ? ` toast-${kind}` : ''}`, testid: 'toast' },
    h('p', { text }), close);
  const remove = () => t.remove();
  close.addEventListener('click', remove);
  ui.toasts.appendChild(t);
  while (ui.toasts.childElementCount > 3) ui.toasts.firstElementChild.remove();
  window.setTimeout(remove, 6000);
}
