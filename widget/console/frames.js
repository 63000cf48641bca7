/*
 * Socket frames from the server, dispatched to the modules that handle them.
 */
import { link, state, STATUS_KEY } from './state.js';
import { send, setConnection } from './socket.js';
import { onQueue } from './queue.js';
import {
  closeChat, onAck, onClaimed, onError, onMessage, onNoteAdded, onReleased, onSafetyAlert,
  onTyping,
} from './chats.js';
import { renderBurst, renderStatus, renderStorage } from './shell.js';

const CONFIRM_AFTER_HELLO_MS = 5000; // chats not re-sent after a reconnect by then are gone

export function onFrame(f) {
  switch (f.type) {
    case 'hello': return onHello(f);
    case 'queue': return onQueue(f);
    case 'claimed': return onClaimed(f);
    default: state.restoring = false; return onOtherFrame(f);
  }
}

function onOtherFrame(f) {
  switch (f.type) {
    case 'message': return onMessage(f);
    case 'ack': return onAck(f);
    case 'typing': return onTyping(f);
    case 'note_added': return onNoteAdded(f);
    case 'released': return onReleased(f);
    case 'error': return onError(f);
    case 'storage': return renderStorage(f);
    case 'booking_alert': return renderBurst(f);
    case 'alert': return onSafetyAlert(f);
    default: return undefined; // unknown frame types are ignored
  }
}

function onHello(f) {
  link.backoffAttempt = 0;
  renderStorage(f.storage);
  if (typeof f.name === 'string' && f.name) state.me.name = f.name;
  if (f.status === 'online' || f.status === 'away') state.status = f.status;
  setConnection('online', 'Connected');
  if (!state.wantStatus) {
    let kept = null;
    try { kept = window.sessionStorage.getItem(STATUS_KEY); } catch (e) { /* storage off */ }
    if (kept === 'online' || kept === 'away') state.wantStatus = kept;
  }
  if (state.wantStatus && state.wantStatus !== state.status) {
    // The agent chose a status before the reconnect; keep it.
    if (send({ type: 'status', status: state.wantStatus })) state.status = state.wantStatus;
    renderStatus();
  }
  // Every chat we hold is re-sent as `claimed`; the ones that are not were
  // released while we were away.
  for (const chat of state.chats.values()) {
    if (!chat.closed) chat.confirmed = false;
  }
  // The `claimed` frames that follow `hello` (with only `queue` between)
  // restore chats we already held; they are not news.
  state.restoring = true;
  window.setTimeout(() => { state.restoring = false; }, 1500);
  if (link.confirmTimer) window.clearTimeout(link.confirmTimer);
  link.confirmTimer = window.setTimeout(() => {
    link.confirmTimer = null;
    for (const chat of state.chats.values()) {
      if (!chat.closed && !chat.confirmed) closeChat(chat, 'lost');
    }
  }, CONFIRM_AFTER_HELLO_MS);
}
