/*
 * The editors' workspace: a modal question with two answers (retire an
 * article, leave unsaved changes). Focus goes back to where it was.
 */
import { h, uid } from './dom.js';

/** Asks `text`; resolves true when the editor picks `yes`. */
export function confirmDialog(title, text, yes, no, opts) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid('kb-dlg');
    const textId = uid('kb-dlg-text');
    let answer = false;
    const yesBtn = h('button', {
      type: 'button', class: `btn ${opts && opts.danger ? 'btn-danger' : 'btn-primary'}`, testid: 'kb-confirm-yes', text: yes,
    });
    const noBtn = h('button', { type: 'button', class: 'btn btn-quiet', testid: 'kb-confirm-no', text: no });
    const dialog = h('dialog', {
      class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': textId, testid: 'kb-confirm',
    },
    h('div', { class: 'dialog-head' }, h('h2', { id: titleId, text: title })),
    h('div', { class: 'dialog-body' },
      h('p', { id: textId, text }),
      h('div', { class: 'dialog-actions' }, noBtn, yesBtn)));
    yesBtn.addEventListener('click', () => { answer = true; dialog.close(); });
    noBtn.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && document.contains(opener) && !opener.disabled) opener.focus();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    noBtn.focus();
  });
}
