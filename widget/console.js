/*
 * Frontdesk agent console.
 *
 * Served at /console/console.js and loaded by /console as a module script.
 * Plain ES2020 modules, no build step, no dependencies, no external hosts.
 * Everything from the server or from a patient is shown with textContent;
 * nothing in the console uses innerHTML.
 *
 * The code is in widget/console/, one module per concern, each served at
 * /console/js/NAME (the server embeds them; see src/http/pages.rs). They
 * import only downwards in this order, so no import cycle exists:
 *   dom, state, format, announce, api, socket, composer, dialogs, chatpane,
 *   chatlist, queue, chats, callbacks, history, clinic, appointments,
 *   outbox, screens, shell, frames, main
 * Calls that must go up the order (a frame reaching a handler, the socket
 * ending the session) go through `hooks` in state.js, which main.js fills.
 * dom.js is shared with the insights page (/console/insights.js), and
 * dom.js and format.js with the editors' workspace (/console/knowledge.js,
 * whose modules are the kb-*.js files).
 *
 * Talks to the HTTP API under /api (cookie session, same origin) and to the
 * WebSocket /console/ws as described in docs/protocol.md, "Agent console
 * protocol" and "Console HTTP API".
 *
 * Globals: the console defines exactly one, `window.FrontdeskConsole` (set
 * in main.js), for debugging and browser tests only (not an API for
 * integrations):
 *   FrontdeskConsole.version         console script version
 *   FrontdeskConsole.snapshot()      plain-object copy of the current state:
 *                                    {screen, me, status, connection, view,
 *                                     selected, queue, chats}
 *   FrontdeskConsole.reconnect()     drop the socket and reconnect now
 *
 * Stable data-testid hooks for browser tests: login-form, login-name,
 * login-password, login-submit, login-error, agent-name, status-online,
 * status-away, sign-out, connection-state, nav-chats, nav-callbacks,
 * nav-history, queue-list, queue-item, claim-button, chat-tab, chat-pane,
 * context, message-list, typing, composer, send-button, insert-answer-button,
 * note-button, transfer-button, return-button, resolve-button,
 * callbacks-list, callback-item, callback-done, history-list, history-item,
 * history-transcript, toast, editor-message, open-workspace (editors: the
 * link to /console/knowledge), nav-insights (supervisors, admins),
 * nav-knowledge (admins).
 *
 * Appointments section: nav-appointments, appointments-view,
 * appointments-list (tbody), appointment-item (row, data-code),
 * appointment-cancel, appointment-cancel-dialog, appointment-cancel-confirm,
 * appointments-refresh, find-code, find-submit, find-result, found-code,
 * found-status, book-type, book-provider, book-from, slots-find, slots-later,
 * slot-status, slot-list, slot-button (data-slot), slot-chosen, slot-error,
 * patient-name, patient-dob, patient-phone, patient-email, contact-phone,
 * contact-text, contact-email, book-submit, book-error, book-result,
 * confirmation-code, calendar-link.
 *
 * Failed messages (supervisors and admins): nav-outbox, outbox-view,
 * outbox-list, outbox-item (data-message), outbox-retry, outbox-refresh,
 * outbox-status, outbox-empty, outbox-error. Opt-outs on callbacks and
 * appointments: opted-out.
 */
// Relative to this file's URL: /console/js/main.js (widget/console/main.js).
import './js/main.js';
