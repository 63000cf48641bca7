/*
 * Entry of the agent console (loaded through /console/console.js): wires the
 * late-bound calls (state.js `hooks`), sets the debug global and boots.
 * See console.js for the data-testid hooks and `window.FrontdeskConsole`.
 */
import { hooks, state } from './state.js';
import { reconnectNow } from './socket.js';
import { updateComposerState } from './composer.js';
import { markRead, updateChatTab } from './chatlist.js';
import { renderQueue } from './queue.js';
import { boot, sessionEnded } from './screens.js';
import { enterConsole, renderStatus, setView } from './shell.js';
import { onFrame } from './frames.js';

const VERSION = '1.0.0';

Object.assign(hooks, {
  sessionEnded,
  enterConsole,
  setView,
  onFrame,
  updateChatTab,
  connectionChanged() {
    renderStatus();
    renderQueue();
    for (const chat of state.chats.values()) updateComposerState(chat);
  },
});

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && state.selected && state.view === 'chats') markRead(state.chats.get(state.selected));
});

// ---------------------------------------------------------------- debug hook

window.FrontdeskConsole = Object.freeze({
  version: VERSION,
  snapshot() {
    return JSON.parse(JSON.stringify({
      screen: state.screen,
      me: state.me,
      status: state.status,
      connection: state.connection,
      view: state.view,
      selected: state.selected,
      queue: state.queue.map(({ t0, ...rest }) => rest), // eslint-disable-line no-unused-vars
      chats: Array.from(state.chats.values()).map((c) => ({
        id: c.id, lang: c.lang, reason: c.reason, closed: c.closed, why: c.why, unread: c.unread,
        messages: Array.from(c.messages.values()),
        pending: Array.from(c.pending.values()),
        notes: c.notes,
      })),
    }));
  },
  reconnect() { reconnectNow(); },
});

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
