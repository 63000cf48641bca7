/*
 * The failed-messages view (supervisors and admins): messages to patients
 * that stayed failed, each with a Retry button. The server masks the
 * recipient and gives only an error code, never the message's words.
 */
import { append, clear, h, setCount } from './dom.js';
import { ui } from './state.js';
import { CHANNELS, LANGS, timeEl } from './format.js';
import { announce, toast } from './announce.js';
import { api, apiMessage } from './api.js';

const KINDS = {
  booking_confirmed: 'Booking confirmation',
  booking_moved: 'Moved appointment',
  booking_cancelled: 'Cancellation',
  reminder: 'Reminder',
  chat_reply: 'Chat reply by text',
  chat_notice: 'Chat notice by text',
};
// What the codes the sender records mean, for people.
const ERRORS = {
  'smtp 5xx': 'The mail server refused it',
  'smtp 4xx': 'The mail server kept asking to try later',
  'smtp timeout': 'The mail server did not answer',
  'smtp connection': 'The mail server could not be reached',
  'sms provider refused the message': 'The text provider refused it',
  'sms provider busy or failing': 'The text provider kept failing',
  'sms timeout': 'The text provider did not answer',
  'sms connection': 'The text provider could not be reached',
  'not a number texts can reach': 'The number cannot get texts',
  'the patient opted out of this channel': 'The patient opted out',
  'its channel is off': 'That channel was turned off',
};

export function kindLabel(kind) {
  return KINDS[kind] || String(kind || 'Message').replace(/_/g, ' ');
}

export function buildOutboxView() {
  ui.outboxHeading = h('h2', { id: 'outbox-heading', tabindex: '-1', text: 'Failed messages' });
  ui.outboxStatus = h('p', { class: 'muted', role: 'status', testid: 'outbox-status' });
  ui.outboxList = h('ul', { class: 'callbacks-list', testid: 'outbox-list', 'aria-labelledby': 'outbox-heading' });
  const refresh = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'outbox-refresh', text: 'Refresh', onclick: () => loadOutbox(true) });
  return h('section', { class: 'view view-outbox', testid: 'outbox-view', 'aria-labelledby': 'outbox-heading' },
    h('div', { class: 'view-head' }, ui.outboxHeading, h('div', { class: 'view-tools' }, refresh)),
    h('p', { class: 'muted', text: 'E-mails and texts to patients that could not be sent, newest first. Retry one once the cause is fixed; the patient gets it within a few seconds.' }),
    ui.outboxStatus,
    ui.outboxList);
}

let loading = false;
export async function loadOutbox(announceDone) {
  if (!ui.outboxList || loading) return;
  loading = true;
  const r = await api('GET', '/api/outbox/failed');
  loading = false;
  if (!ui.outboxList) return;
  if (!r.ok || !Array.isArray(r.data)) {
    clear(ui.outboxList);
    ui.outboxList.appendChild(h('li', { class: 'empty error-text', testid: 'outbox-error', text: r.status === 403
      ? 'Your account cannot see failed messages.'
      : apiMessage(r, 'Could not load the failed messages. Try Refresh.') }));
    ui.outboxStatus.textContent = '';
    return;
  }
  const list = r.data.filter((m) => m && m.id !== undefined);
  render(list);
  const n = list.length;
  ui.outboxStatus.textContent = announceDone ? `Updated. ${n} failed message${n === 1 ? '' : 's'}.` : '';
}

function render(list) {
  const ul = ui.outboxList;
  const focusedId = document.activeElement && ul.contains(document.activeElement)
    ? document.activeElement.getAttribute('data-message') : null;
  clear(ul);
  if (ui.outboxCount) setCount(ui.outboxCount, list.length, 'failed');
  if (!list.length) {
    ul.appendChild(h('li', { class: 'empty', testid: 'outbox-empty', text: 'No failed messages. Everything written to patients went out.' }));
    return;
  }
  for (const m of list) {
    const channel = CHANNELS[m.channel] || String(m.channel || '');
    const title = `${kindLabel(m.kind)} by ${channel.toLowerCase()} to ${m.recipient || 'the patient'}`;
    const dl = h('dl', { class: 'facts' });
    const fact = (t, v) => { if (v) append(dl, [h('dt', { text: t }), h('dd', null, v)]); };
    const code = m.last_error ? String(m.last_error) : '';
    fact('Why', code ? `${ERRORS[code] || 'Not sent'} (${code})` : 'Not sent');
    fact('Tries', m.attempts !== undefined ? String(m.attempts) : '');
    fact('Written', m.created_at ? timeEl(m.created_at) || String(m.created_at) : '');
    fact('Appointment', m.appointment ? h('span', { class: 'code', text: String(m.appointment) }) : '');
    fact('Language', LANGS[m.lang] || (m.lang ? String(m.lang) : ''));
    const btn = h('button', {
      type: 'button', class: 'btn btn-primary btn-small', testid: 'outbox-retry', 'data-message': String(m.id),
      text: 'Retry', 'aria-label': `Retry the ${title}`,
    });
    btn.addEventListener('click', () => retry(m, title, btn));
    ul.appendChild(h('li', { class: 'callback', testid: 'outbox-item', 'data-message': String(m.id) },
      h('div', { class: 'callback-head' }, h('h3', { text: title }), btn),
      dl));
  }
  if (focusedId) {
    const again = ul.querySelector(`button[data-message="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
    else ui.outboxHeading.focus();
  }
}

async function retry(m, title, btn) {
  btn.disabled = true;
  btn.textContent = 'Retrying…';
  const r = await api('POST', `/api/outbox/${encodeURIComponent(m.id)}/retry`);
  if (r.ok) {
    const msg = `${title}: queued again. It goes out within a few seconds.`;
    toast(msg);
    announce(msg);
    ui.outboxHeading.focus();
    loadOutbox();
    return;
  }
  btn.disabled = false;
  btn.textContent = 'Retry';
  const msg = apiMessage(r, 'Could not retry the message.');
  toast(msg, 'error');
  announce(msg);
  if (r.status === 409 || r.status === 404) loadOutbox();
}
