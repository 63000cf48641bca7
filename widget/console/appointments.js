/*
 * The appointments view: find by code, cancel, upcoming list, and booking
 * for a patient (type, provider, date, open slots, patient details).
 */
import { append, clear, h, hiddenText, uid } from './dom.js';
import { ui } from './state.js';
import { announce, toast } from './announce.js';
import { api, apiMessage } from './api.js';
import { actionsRow, openDialog } from './dialogs.js';
import {
  addDays, clinicClock, clinicDayFmt, clinicTimeFmt, clinicWhenEl, CONTACT_LABELS, CONTACTS, field,
  isoDay, setFieldError, SLOT_DAYS,
} from './clinic.js';
import { optOutBadge } from './format.js';

export function buildAppointmentsView() {
  const a = { types: [], typesLoaded: false, slot: null, from: '', slotsSeq: 0 };
  const headingId = 'appointments-heading';
  ui.apptsHeading = h('h2', { id: headingId, tabindex: '-1', text: 'Appointments' });

  // --- find by code
  const findInput = h('input', {
    id: uid('find-code'), type: 'text', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false',
    maxlength: '40', testid: 'find-code',
  });
  const findField = field('Confirmation code', findInput);
  const findResult = h('div', { class: 'appt-result', testid: 'find-result', 'aria-live': 'polite' });
  const findForm = h('form', { class: 'appt-form find-form', novalidate: true, 'aria-labelledby': 'find-heading' },
    h('div', { class: 'row' }, findField.wrap,
      h('button', { type: 'submit', class: 'btn btn-secondary', testid: 'find-submit', text: 'Find' })));
  findForm.addEventListener('submit', (ev) => { ev.preventDefault(); findByCode(); });

  async function findByCode() {
    const code = findInput.value.trim();
    setFieldError(findField, '');
    clear(findResult);
    if (!code) {
      setFieldError(findField, 'Enter a confirmation code.');
      findInput.focus();
      return;
    }
    findResult.appendChild(h('p', { class: 'muted', text: 'Looking it up…' }));
    const r = await api('GET', `/api/appointments/${encodeURIComponent(code)}`);
    clear(findResult);
    if (r.status === 404) {
      findResult.appendChild(h('p', { class: 'notice', text: 'No appointment with that code' }));
      return;
    }
    if (!r.ok || !r.data) {
      findResult.appendChild(h('p', { class: 'form-error', text: apiMessage(r, 'Could not look up the appointment.') }));
      return;
    }
    findResult.appendChild(appointmentCard(r.data));
  }

  function appointmentCard(ap) {
    const dl = h('dl', { class: 'facts' });
    const fact = (t, v) => { if (v) append(dl, [h('dt', { text: t }), h('dd', null, v)]); };
    fact('Status', ap.booked ? 'Booked' : 'Cancelled');
    fact('When', clinicWhenEl(ap.start));
    fact('Type', typeName(ap.type_id));
    fact('Provider', providerName(ap.provider));
    fact('Location', ap.location ? String(ap.location) : '');
    fact('Patient', ap.name ? String(ap.name) : '');
    fact('Date of birth', ap.dob ? String(ap.dob) : '');
    fact('Contact by', [CONTACT_LABELS[ap.contact] || (ap.contact ? String(ap.contact) : ''), ' ', optOutBadge(ap)]);
    fact('Phone', ap.phone ? String(ap.phone) : '');
    fact('Email', ap.email ? String(ap.email) : '');
    const head = h('div', { class: 'callback-head' },
      h('h4', null, 'Code ', h('span', { class: 'code', testid: 'found-code', text: String(ap.code || '') })),
      ap.booked ? cancelButton(ap) : h('p', { class: 'cancelled-label', testid: 'found-status', text: 'Cancelled' }));
    return h('div', { class: `appt-card${ap.booked ? '' : ' is-cancelled'}`, 'data-code': String(ap.code || '') }, head, dl);
  }

  // --- cancel (with a confirm step)
  function cancelButton(ap) {
    const b = h('button', {
      type: 'button', class: 'btn btn-quiet btn-small', testid: 'appointment-cancel', text: 'Cancel',
      'aria-label': `Cancel appointment ${ap.code} for ${ap.name || 'the patient'}`,
    });
    b.addEventListener('click', () => confirmCancel(ap));
    return b;
  }

  function confirmCancel(ap) {
    const d = openDialog('Cancel this appointment?', { testid: 'appointment-cancel-dialog', fallbackFocus: ui.apptsHeading });
    const err = h('p', { class: 'form-error', role: 'alert' });
    const ok = h('button', { type: 'button', class: 'btn btn-primary', testid: 'appointment-cancel-confirm', text: 'Cancel appointment' });
    ok.addEventListener('click', async () => {
      ok.disabled = true;
      ok.textContent = 'Cancelling…';
      const r = await api('DELETE', `/api/appointments/${encodeURIComponent(ap.code)}`);
      if (r.ok || r.status === 404) {
        d.close();
        const msg = r.ok ? `Appointment ${ap.code} cancelled.` : `Appointment ${ap.code} was already cancelled.`;
        toast(msg);
        announce(msg);
        loadUpcoming();
        if (findResult.querySelector(`[data-code="${CSS.escape(String(ap.code))}"]`)) {
          findInput.value = String(ap.code);
          findByCode();
        }
        return;
      }
      ok.disabled = false;
      ok.textContent = 'Cancel appointment';
      err.textContent = apiMessage(r, 'Could not cancel the appointment.');
    });
    append(d.body, [
      h('p', null, `${ap.name || 'The patient'} — ${typeName(ap.type_id)} with ${providerName(ap.provider)}, `,
        clinicWhenEl(ap.start), `. Code ${ap.code}.`),
      h('p', { class: 'muted', text: 'The time becomes free for others. The patient is not told automatically.' }),
      err,
      actionsRow(h('button', { type: 'button', class: 'btn btn-quiet', text: 'Keep it', onclick: d.close }), ok)]);
    ok.focus();
  }

  // --- upcoming list
  const upStatus = h('p', { class: 'muted', role: 'status' });
  const upBody = h('tbody', { testid: 'appointments-list' });
  const upTable = h('table', { class: 'appt-table', hidden: true },
    h('caption', { class: 'visually-hidden', text: 'Upcoming booked appointments, soonest first' }),
    h('thead', null, h('tr', null, ...['Start (clinic time)', 'Type', 'Provider', 'Location', 'Patient', 'Code', 'Actions']
      .map((t) => h('th', { scope: 'col', text: t })))),
    upBody);
  const refresh = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'appointments-refresh', text: 'Refresh', onclick: () => loadUpcoming(true) });

  let upSeq = 0;
  async function loadUpcoming(announceDone) {
    const mine = ++upSeq;
    await loadTypes();
    const r = await api('GET', '/api/appointments');
    if (mine !== upSeq) return;
    if (!r.ok || !Array.isArray(r.data)) {
      upStatus.textContent = r.status === 403 ? 'Your account cannot see appointments.' : apiMessage(r, 'Could not load appointments.');
      return;
    }
    clear(upBody);
    const list = r.data.filter((x) => x && x.code && x.booked !== false);
    upTable.hidden = !list.length;
    for (const ap of list) {
      upBody.appendChild(h('tr', { testid: 'appointment-item', 'data-code': String(ap.code) },
        h('td', null, clinicWhenEl(ap.start)),
        h('td', { text: typeName(ap.type_id) }),
        h('td', { text: providerName(ap.provider) }),
        h('td', { text: String(ap.location || '') }),
        h('td', null, String(ap.name || ''), ' ', optOutBadge(ap)),
        h('td', null, h('span', { class: 'code', text: String(ap.code) })),
        h('td', null, cancelButton(ap))));
    }
    const n = list.length;
    upStatus.textContent = n ? (announceDone ? `Updated. ${n} upcoming appointment${n === 1 ? '' : 's'}.` : '')
      : 'No upcoming appointments.';
  }

  // --- types and providers
  function typeName(id) {
    const t = a.types.find((x) => x.id === id);
    return t ? String(t.name) : String(id || '');
  }

  function providerName(id) {
    for (const t of a.types) {
      const p = (t.providers || []).find((x) => x && x.id === id);
      if (p) return String(p.name);
    }
    return String(id || '');
  }

  let typesPromise = null;
  function loadTypes() {
    if (a.typesLoaded) return Promise.resolve();
    if (!typesPromise) {
      typesPromise = api('GET', '/api/appointment-types').then((r) => {
        typesPromise = null;
        if (!r.ok || !Array.isArray(r.data)) {
          slotStatus.textContent = apiMessage(r, 'Could not load the appointment types.');
          return;
        }
        a.types = r.data.filter((t) => t && typeof t.id === 'string');
        a.typesLoaded = true;
        clear(typeSelect);
        typeSelect.appendChild(h('option', { value: '', text: 'Choose a type…' }));
        for (const t of a.types) {
          typeSelect.appendChild(h('option', { value: t.id, text: `${t.name} (${t.duration_min} min)${t.new_patients_only ? ' — new patients only' : ''}` }));
        }
        fillProviders();
      });
    }
    return typesPromise;
  }

  function fillProviders() {
    const t = a.types.find((x) => x.id === typeSelect.value);
    clear(providerSelect);
    providerSelect.appendChild(h('option', { value: '', text: 'Any provider' }));
    for (const p of (t && t.providers) || []) providerSelect.appendChild(h('option', { value: p.id, text: p.name }));
    providerSelect.disabled = !t;
  }

  // --- book: type, provider, date -> open slots
  const typeSelect = h('select', { id: uid('book-type'), testid: 'book-type' }, h('option', { value: '', text: 'Loading…' }));
  const providerSelect = h('select', { id: uid('book-provider'), testid: 'book-provider', disabled: true }, h('option', { value: '', text: 'Any provider' }));
  const fromInput = h('input', { id: uid('book-from'), type: 'date', testid: 'book-from', value: isoDay(new Date()) });
  const typeField = field('Appointment type', typeSelect);
  const providerField = field('Provider (optional)', providerSelect);
  const fromField = field('From date', fromInput, `Shows ${SLOT_DAYS} days of open times`);
  // Times listed for another type or provider would mislead: drop them.
  const dropSlots = () => {
    a.slotsSeq += 1;
    selectSlot(null);
    clear(slotList);
    slotStatus.textContent = '';
    later.hidden = true;
  };
  typeSelect.addEventListener('change', () => { fillProviders(); setFieldError(typeField, ''); dropSlots(); });
  providerSelect.addEventListener('change', dropSlots);

  const slotStatus = h('p', { class: 'slot-status', role: 'status', testid: 'slot-status' });
  const slotList = h('div', { class: 'slot-list', testid: 'slot-list' });
  const later = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'slots-later', text: 'Later times', hidden: true });
  later.addEventListener('click', () => {
    fromInput.value = addDays(a.from || fromInput.value, SLOT_DAYS);
    findSlots();
  });
  const slotsForm = h('form', { class: 'appt-form slots-form', novalidate: true, 'aria-label': 'Find open times' },
    h('div', { class: 'row' }, typeField.wrap, providerField.wrap, fromField.wrap),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn btn-secondary', testid: 'slots-find', text: 'Show open times' })));
  slotsForm.addEventListener('submit', (ev) => { ev.preventDefault(); findSlots(); });

  async function findSlots() {
    setFieldError(typeField, '');
    setFieldError(fromField, '');
    if (!typeSelect.value) {
      setFieldError(typeField, 'Choose an appointment type.');
      typeSelect.focus();
      return;
    }
    const from = fromInput.value;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from)) {
      setFieldError(fromField, 'Enter a start date.');
      fromInput.focus();
      return;
    }
    const mine = ++a.slotsSeq;
    a.from = from;
    a.slotsType = typeSelect.value;
    selectSlot(null);
    clear(slotList);
    later.hidden = true;
    slotStatus.textContent = 'Looking for open times…';
    const q = new URLSearchParams({ type: typeSelect.value, from, days: String(SLOT_DAYS) });
    if (providerSelect.value) q.set('provider', providerSelect.value);
    const r = await api('GET', `/api/slots?${q}`);
    if (mine !== a.slotsSeq) return;
    if (!r.ok || !Array.isArray(r.data)) {
      slotStatus.textContent = '';
      setFieldError(r.status === 400 ? fromField : typeField, apiMessage(r, 'Could not load open times.'));
      return;
    }
    showSlots(r.data, r.data.length
      ? `${r.data.length} open time${r.data.length === 1 ? '' : 's'} from ${from}. Pick one.`
      : `No open times in the ${SLOT_DAYS} days from ${from}. Try later times.`);
    later.hidden = false;
  }

  /** Lists slots as buttons, grouped by the clinic's day. */
  function showSlots(slots, statusText) {
    clear(slotList);
    slotStatus.textContent = statusText;
    let day = null;
    let ul = null;
    for (const s of slots) {
      if (!s || typeof s.id !== 'string') continue;
      const clock = clinicClock(s.start);
      const dayKey = String(s.start).slice(0, 10);
      if (dayKey !== day) {
        day = dayKey;
        const hid = uid('slot-day');
        ul = h('ul', { class: 'slot-day', 'aria-labelledby': hid });
        append(slotList, [h('h4', { id: hid, text: clock ? clinicDayFmt.format(clock) : dayKey }), ul]);
      }
      const time = clock ? clinicTimeFmt.format(clock) : String(s.start);
      const who = providerName(s.provider);
      const b = h('button', { type: 'button', class: 'slot-btn', testid: 'slot-button', 'data-slot': s.id, 'aria-pressed': 'false' },
        h('span', { class: 'slot-time' }, hiddenText(`${clock ? clinicDayFmt.format(clock) : dayKey}, `), time),
        h('span', { class: 'slot-who' }, hiddenText('with '), who));
      b.addEventListener('click', () => selectSlot(s, b));
      ul.appendChild(h('li', null, b));
    }
  }

  const chosen = h('p', { class: 'chosen', testid: 'slot-chosen', 'aria-live': 'polite', text: 'No time picked yet.' });
  function selectSlot(s, btn) {
    a.slot = s;
    for (const b of slotList.querySelectorAll('.slot-btn')) b.setAttribute('aria-pressed', String(b === btn));
    clear(chosen);
    if (s) {
      append(chosen, ['Picked: ', h('strong', null, clinicWhenEl(s.start)), ` with ${providerName(s.provider)} (${typeName(a.slotsType)})`]);
      setErr(slotErr, '');
    } else {
      chosen.textContent = 'No time picked yet.';
    }
  }

  // --- patient details
  const pName = h('input', { id: uid('p-name'), type: 'text', autocomplete: 'off', maxlength: '120', testid: 'patient-name' });
  const pDob = h('input', { id: uid('p-dob'), type: 'date', testid: 'patient-dob', max: isoDay(new Date()), min: '1900-01-01' });
  const pPhone = h('input', { id: uid('p-phone'), type: 'tel', autocomplete: 'off', testid: 'patient-phone' });
  const pEmail = h('input', { id: uid('p-email'), type: 'email', autocomplete: 'off', testid: 'patient-email' });
  const fName = field('Patient name', pName);
  const fDob = field('Date of birth', pDob);
  const fPhone = field('Phone', pPhone, 'Needed for a phone call or text');
  const fEmail = field('Email', pEmail, 'Needed for contact by email');
  const contactName = uid('contact');
  const contactErrId = uid('err');
  const contactErr = h('p', { id: contactErrId, class: 'field-error' });
  const contactSet = h('fieldset', { class: 'choices contact-choices', 'aria-describedby': contactErrId },
    h('legend', { text: 'Contact the patient by' }));
  CONTACTS.forEach((c, i) => {
    const id = `${contactName}-${c.value}`;
    contactSet.appendChild(h('span', { class: 'choice' },
      h('input', { type: 'radio', name: contactName, id, value: c.value, checked: i === 0, testid: `contact-${c.value}` }),
      h('label', { for: id, text: c.label })));
  });
  contactSet.appendChild(contactErr);
  const contactField = { control: contactSet, err: contactErr };
  const slotErr = { control: slotList, err: h('p', { class: 'field-error', testid: 'slot-error' }) };
  function setErr(f, text) {
    if (f === slotErr || f === contactField) f.err.textContent = text || '';
    else setFieldError(f, text);
  }

  const bookError = h('p', { class: 'form-error', role: 'alert', testid: 'book-error' });
  const bookResult = h('div', { class: 'appt-result', testid: 'book-result', 'aria-live': 'polite' });
  const bookSubmit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'book-submit', text: 'Book appointment' });
  const patientForm = h('form', { class: 'appt-form patient-form', novalidate: true, 'aria-label': 'Patient details' },
    h('div', { class: 'row' }, fName.wrap, fDob.wrap),
    h('div', { class: 'row' }, fPhone.wrap, fEmail.wrap),
    contactSet,
    chosen, slotErr.err,
    bookError,
    h('div', { class: 'row' }, bookSubmit));
  patientForm.addEventListener('submit', (ev) => { ev.preventDefault(); book(); });

  const allFields = [fName, fDob, fPhone, fEmail, contactField, slotErr];

  /** Puts a 400 message next to the field it is about. */
  function fieldForMessage(msg) {
    const m = String(msg || '');
    if (/patient\.name/.test(m)) return [fName, 'Enter the patient\'s name (up to 120 characters, with letters).'];
    if (/patient\.dob must be a past/.test(m)) return [fDob, 'The date of birth must be a real date in the past.'];
    if (/patient\.dob/.test(m)) return [fDob, 'Enter a complete date of birth (year, month and day).'];
    if (/needs patient\.phone/.test(m)) return [fPhone, 'A phone number is needed to call or text the patient.'];
    if (/patient\.phone/.test(m)) return [fPhone, 'That is not a phone number. Check the digits.'];
    if (/needs patient\.email/.test(m)) return [fEmail, 'An email address is needed to contact the patient by email.'];
    if (/patient\.email/.test(m)) return [fEmail, 'That is not an email address.'];
    if (/patient\.contact/.test(m)) return [contactField, 'Choose phone call, text message or email.'];
    if (/slot/.test(m)) return [slotErr, 'Pick a time again: that one is not valid any more.'];
    return null;
  }

  function focusField(f) {
    if (f === contactField) {
      const r = contactSet.querySelector('input:checked') || contactSet.querySelector('input');
      if (r) r.focus();
    } else if (f === slotErr) {
      const b = slotList.querySelector('.slot-btn') || typeSelect;
      b.focus();
    } else {
      f.control.focus();
    }
  }

  let booking = false;
  async function book() {
    if (booking) return;
    for (const f of allFields) setErr(f, '');
    bookError.textContent = '';
    const contact = (contactSet.querySelector('input:checked') || {}).value || '';
    const name = pName.value.trim();
    const dob = pDob.value;
    const phone = pPhone.value.trim();
    const email = pEmail.value.trim();
    const problems = [];
    if (!a.slot) problems.push([slotErr, 'Pick an open time first (Show open times, then a time).']);
    if (!name) problems.push([fName, 'Enter the patient\'s name.']);
    if (!dob) problems.push([fDob, pDob.validity && pDob.validity.badInput ? 'Enter a complete date of birth.' : 'Enter the date of birth.']);
    if ((contact === 'phone' || contact === 'text') && !phone) problems.push([fPhone, 'A phone number is needed to call or text the patient.']);
    if (contact === 'email' && !email) problems.push([fEmail, 'An email address is needed to contact the patient by email.']);
    if (problems.length) {
      for (const [f, t] of problems) setErr(f, t);
      bookError.textContent = problems.length === 1 ? 'Check the highlighted field.' : `Check the ${problems.length} highlighted fields.`;
      focusField(problems[0][0]);
      return;
    }
    const patient = { name, dob, contact };
    if (phone) patient.phone = phone;
    if (email) patient.email = email;
    booking = true;
    bookSubmit.disabled = true;
    bookSubmit.textContent = 'Booking…';
    const r = await api('POST', '/api/appointments', { slot: a.slot.id, patient });
    booking = false;
    bookSubmit.disabled = false;
    bookSubmit.textContent = 'Book appointment';
    if (r.status === 201 && r.data && r.data.code) {
      showBooked(r.data, name, a.slotsType);
      for (const el of [pName, pDob, pPhone, pEmail]) el.value = '';
      selectSlot(null);
      clear(slotList);
      slotStatus.textContent = '';
      later.hidden = true;
      loadUpcoming();
      return;
    }
    if (r.status === 409) {
      const alts = r.data && Array.isArray(r.data.alternatives) ? r.data.alternatives : [];
      selectSlot(null);
      const msg = 'That time was just taken';
      bookError.textContent = alts.length ? `${msg}. Pick one of the open times listed.` : `${msg}, and no other times are open soon. Try a later date.`;
      showSlots(alts, alts.length ? `Open times now: ${alts.length}.` : '');
      loadUpcoming();
      later.hidden = true;
      const first = slotList.querySelector('.slot-btn');
      if (first) first.focus();
      return;
    }
    if (r.status === 400) {
      const hit = fieldForMessage(r.data && r.data.message);
      if (hit) {
        setErr(hit[0], hit[1]);
        bookError.textContent = 'Check the highlighted field.';
        focusField(hit[0]);
      } else {
        bookError.textContent = apiMessage(r, 'The details were not accepted.');
      }
      return;
    }
    bookError.textContent = r.status === 403 ? 'Your account cannot book appointments.' : apiMessage(r, 'Booking failed. Please try again.');
  }

  function showBooked(data, name, typeId) {
    clear(bookResult);
    const s = data.slot || {};
    const link = typeof data.calendar === 'string' && data.calendar.startsWith('/calendar/')
      ? h('a', { href: data.calendar, testid: 'calendar-link', download: 'appointment.ics', text: 'Calendar file (.ics) for the patient' })
      : null;
    append(bookResult, [h('div', { class: 'booked' },
      h('h4', { text: 'Booked' }),
      h('p', { class: 'code-line' }, 'Confirmation code ', h('strong', { class: 'code code-big', testid: 'confirmation-code', text: String(data.code) })),
      h('p', null, `${name} — ${typeName(typeId)} with ${providerName(s.provider)}, `,
        clinicWhenEl(s.start), s.location ? ` at ${s.location}.` : '.'),
      link ? h('p', null, link) : null,
      h('p', { class: 'muted small', text: 'Give the patient this code: it is needed to cancel or change the appointment.' }))]);
  }

  const view = h('section', { class: 'view view-appointments', 'aria-labelledby': headingId, testid: 'appointments-view' },
    h('div', { class: 'view-head' }, ui.apptsHeading),
    h('p', { class: 'muted', text: 'Times are the clinic\'s local time.' }),
    h('div', { class: 'appts-grid' },
      h('section', { class: 'panel-card book-card', 'aria-labelledby': 'book-heading' },
        h('h3', { id: 'book-heading', text: 'Book for a patient' }),
        slotsForm, slotStatus, slotList, h('div', { class: 'row' }, later),
        patientForm, bookResult),
      h('section', { class: 'panel-card find-card', 'aria-labelledby': 'find-heading' },
        h('h3', { id: 'find-heading', text: 'Find by confirmation code' }),
        findForm, findResult)),
    h('section', { class: 'panel-card upcoming-card', 'aria-labelledby': 'upcoming-heading' },
      h('div', { class: 'view-head' }, h('h3', { id: 'upcoming-heading', text: 'Upcoming appointments' }),
        h('div', { class: 'view-tools' }, refresh)),
      upStatus, upTable));

  ui.loadAppointments = () => { loadUpcoming(); };
  return view;
}
