/*
 * Helpers for the appointments view: the clinic's wall-clock times, dates
 * and labelled form fields.
 */
import { h, uid } from './dom.js';

export const CONTACTS = [
  { value: 'phone', label: 'Phone call' },
  { value: 'text', label: 'Text message' },
  { value: 'email', label: 'Email' },
];
export const CONTACT_LABELS = { phone: 'Phone call', text: 'Text message', email: 'Email' };
export const SLOT_DAYS = 7;

// Times come as RFC 3339 with the clinic's offset: show that wall clock
// (the clinic's local time), whatever the browser's own time zone is.
export const clinicDayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC' });
export const clinicTimeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit', timeZone: 'UTC' });
const clinicWhenFmt = new Intl.DateTimeFormat(undefined, {
  weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: 'UTC',
});

/** The wall-clock parts of an RFC 3339 time, as a Date in UTC, or null. */
export function clinicClock(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(String(s || ''));
  if (!m) return null;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5])));
}

function clinicWhen(s) {
  const d = clinicClock(s);
  return d ? clinicWhenFmt.format(d) : String(s || '');
}

export function clinicWhenEl(s) {
  return h('time', { datetime: String(s || ''), text: clinicWhen(s) });
}

export function isoDay(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function addDays(day, n) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + n);
  return isoDay(d);
}

/** A labelled form field with an inline error line tied to the control. */
export function field(label, control, hint) {
  const errId = uid('err');
  const hintId = hint ? uid('hint') : null;
  const err = h('p', { id: errId, class: 'field-error' });
  control.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  const wrap = h('div', { class: 'field' },
    h('label', { for: control.id, text: label }),
    hint ? h('p', { id: hintId, class: 'hint', text: hint }) : null,
    control, err);
  return { wrap, control, err };
}

export function setFieldError(f, text) {
  f.err.textContent = text || '';
  if (text) f.control.setAttribute('aria-invalid', 'true');
  else f.control.removeAttribute('aria-invalid');
}
