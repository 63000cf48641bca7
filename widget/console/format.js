/*
 * Labels and formatting: words for codes the server sends, times, durations.
 */
import { h, hiddenText } from './dom.js';

const REASONS = {
  low_confidence: "Bot wasn't sure",
  patient_request: 'Asked for a person',
  repeated_misses: 'Bot missed twice',
  frustration: 'Frustrated',
  emergency: 'URGENT: possible emergency',
  booking_help: 'Booking help',
};
export const LANGS = { en: 'English', es: 'Spanish (Español)' };
export const WHY = {
  resolved: 'You resolved this chat.',
  returned_to_bot: 'You returned this chat to the bot.',
  transferred: 'This chat was transferred to another agent.',
  patient_ended: 'The patient ended the chat.',
  lost: 'This chat is no longer assigned to you (it may have ended while the console was disconnected).',
};
export const DISPOSITIONS = [
  { value: 'answered', label: 'Answered' },
  { value: 'booked', label: 'Booked' },
  { value: 'callback', label: 'Callback needed' },
  { value: 'no_response', label: 'No response' },
  { value: 'other', label: 'Other' },
];
const DISPOSITION_LABELS = {
  answered: 'Answered', booked: 'Booked', callback: 'Callback needed', no_response: 'No response',
};
export const CHANNELS = { phone: 'Phone', sms: 'Text message', text: 'Text message', email: 'Email' };
export const ROLES = { agent: 'Agent', supervisor: 'Supervisor', admin: 'Admin', editor: 'Editor' };
export const FROM_LABELS = { patient: 'Patient', bot: 'Bot', agent: 'Agent', system: 'System' };

// What the patient was told when a safety rule fired, by kind, and what
// the agent should do now (agents are not clinicians).
export const SAFETY = {
  medical: { label: 'Possible emergency', told: 'The patient was told to call 911 now.', level: 'urgent' },
  crisis: { label: 'Possible crisis', told: 'The patient was given the 988 crisis line (and 911 if in danger).', level: 'urgent' },
  urgent: { label: 'Care needed today', told: 'The patient was told to call the nurse line or go to urgent care today.', level: 'warn' },
};

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit',
});

export function parseDate(s) {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

function fmtTime(s) {
  const d = parseDate(s);
  if (!d) return '';
  const today = new Date();
  return d.toDateString() === today.toDateString() ? timeFmt.format(d) : dateTimeFmt.format(d);
}

export function fmtDateTime(s) {
  const d = parseDate(s);
  return d ? dateTimeFmt.format(d) : '';
}

export function timeEl(s) {
  const d = parseDate(s);
  if (!d) return null;
  return h('time', { datetime: d.toISOString(), title: d.toLocaleString(), text: fmtTime(s) });
}

export function fmtDuration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function reasonLabel(reason) {
  return REASONS[reason] || (reason ? String(reason).replace(/_/g, ' ') : 'Hand-over');
}

export function dispositionLabel(d) {
  if (!d) return '';
  return DISPOSITION_LABELS[d] || d;
}

export function langBadge(lang) {
  const code = String(lang || '?').toUpperCase();
  return h('span', { class: 'badge badge-lang', title: LANGS[lang] || code },
    hiddenText(`Language: ${LANGS[lang] || code}. `),
    h('span', { 'aria-hidden': 'true', text: code }));
}

/** A badge for an entry whose contact opted out of its channel (texted
 * STOP, or unsubscribed from e-mail); null when it did not. */
export function optOutBadge(item) {
  if (!item || item.opted_out !== true) return null;
  const channel = item.channel || item.contact;
  return h('span', {
    class: 'badge badge-optout', testid: 'opted-out',
    text: channel === 'email' ? 'Opted out of e-mail' : 'Opted out of texts',
  });
}

export function shortId(conversation) {
  const s = String(conversation || '');
  return s.length > 6 ? s.slice(-6) : s;
}

export function chatTitle(chat) {
  return `Chat ${shortId(chat.id)}`;
}

export function graphemeCount(text) {
  if (typeof Intl !== 'undefined' && Intl.Segmenter) {
    let n = 0;
    for (const _ of new Intl.Segmenter().segment(text)) n += 1; // eslint-disable-line no-unused-vars
    return n;
  }
  return Array.from(text).length;
}

export function newId() {
  if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
  // Fallback for non-secure contexts (plain http on a LAN name).
  const b = new Uint8Array(16);
  window.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function truncate(s, n) {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
