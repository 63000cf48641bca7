/*
 * The console's shared mutable state: what the other modules read and
 * change. Plain data only; no module-level code runs anything.
 */

export const MAX_TEXT = 2000; // graphemes, as the server counts
export const STATUS_KEY = 'frontdesk-console-status'; // this tab's chosen Online/Away, kept over reloads

export const state = {
  screen: 'loading', // loading | signin | console | editor
  me: null, // {name, role}
  status: 'online',
  connection: 'offline', // connecting | online | waiting | offline
  view: 'chats', // chats | callbacks | history | appointments | outbox (supervisors, admins)
  queue: [], // [{conversation, position, reason, priority, waiting_s, lang, preview, t0}]
  chats: new Map(), // conversation -> chat
  selected: null,
  claiming: new Set(),
  seenQueue: new Set(),
  callbacks: [],
  showDoneCallbacks: false,
};

/** The console socket and its timers (socket.js, frames.js; reset by teardown). */
export const link = {
  ws: null,
  generation: 0, // bumped to disown a socket: its late events are ignored
  backoffAttempt: 0,
  reconnectTimer: null,
  reconnectAt: 0,
  confirmTimer: null,
};

export const session = {
  signingOut: false,
  stash: null, // unsent messages kept over an unexpected sign-out
};

export const intervals = [];
export const ui = {}; // element references of the current screen

/**
 * Calls that go up the import order (a module imports only modules before
 * it in the order listed in console.js, so there are no import cycles).
 * main.js fills these in before anything runs:
 *   sessionEnded()            screens.js   (api.js, socket.js)
 *   enterConsole(me)          shell.js     (screens.js, socket.js)
 *   setView(view, focus)      shell.js     (chatlist.js)
 *   onFrame(frame)            frames.js    (socket.js)
 *   connectionChanged()       main.js: status toggle, queue, composers (socket.js)
 *   updateChatTab(tab, chat)  chatlist.js  (chatpane.js)
 */
export const hooks = {};
