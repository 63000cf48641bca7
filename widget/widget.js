/*!
 * Frontdesk patient chat widget. Plain ES2020, no dependencies, no build step.
 *
 * Embed: <script src="https://<frontdesk host>/widget.js" data-title="Clinic"
 *          data-color="#0b6e4f" data-lang="es" async></script>
 *   data-title  name in the chat header (default "Chat")
 *   data-color  #rgb or #rrggbb (default #0b6e4f); text colours are derived
 *               from it so contrast stays >= 4.5:1
 *   data-lang   "en" or "es" (default: <html lang>, else "en")
 *   data-user, data-user-expires, data-user-nonce, data-user-sig  optional:
 *               the signed-in patient's id, its expiry, nonce and HMAC, so the
 *               chat follows them to another device (docs/protocol.md,
 *               "Verified identity")
 *   data-user-sig-url  optional: a same-origin URL that returns a fresh
 *               {user, expires, nonce, sig} once the signature has expired;
 *               without it the widget asks the patient to reload the page
 *
 * The only global, window.Frontdesk: open() (moves focus into the panel),
 * close() (focus back to the launcher), toggle().
 *
 * Talks to ws(s)://<this script's host and folder>/chat (docs/protocol.md);
 * everything lives in a shadow root on <frontdesk-widget>. CSP: styles are
 * adoptedStyleSheets, which style-src does not restrict (only the <style>
 * fallback of older browsers needs 'unsafe-inline'). No eval, no inline
 * handlers, no requests but the WebSocket and the data-user-sig-url fetch.
 */
(function () {
'use strict';
const SELF = document.currentScript; // only set during this first run

const warn = (e) => console.warn('[frontdesk]', e);
function guard(fn) {
  return function () {
    try { return fn.apply(this, arguments); } catch (e) { warn(e); }
  };
}

function boot() {
  if (window.Frontdesk) return; // loaded twice
  const script = (SELF && SELF.src) ? SELF
    : Array.from(document.querySelectorAll('script[src*="widget.js"]')).pop();
  if (!script) throw new Error('cannot find my <script> tag');
  const src = new URL(script.src, document.baseURI);
  const base = new URL('./', src); // same folder as widget.js
  const WS_URL = src.protocol.replace('http', 'ws') + '//' + src.host + base.pathname + 'chat';
  const ds = script.dataset || {};
  const lang = /^es\b/i.test((ds.lang || document.documentElement.lang || '').trim()) ? 'es' : 'en';
  const title = (ds.title || '').trim().slice(0, 80) || 'Chat';
  const K = 'frontdesk:' + src.origin + base.pathname.replace(/\/$/, '') + ':';

  let app = null;
  let wantOpen = null;
  const api = Object.freeze({
    open: guard(() => (app ? app.setOpen(true, true) : (wantOpen = true))),
    close: guard(() => (app ? app.setOpen(false, true) : (wantOpen = false))),
    toggle: guard(() => (app ? app.setOpen(!app.isOpen(), true) : (wantOpen = !wantOpen))),
  });
  try {
    Object.defineProperty(window, 'Frontdesk', { value: api, configurable: true });
  } catch (_) { /* host froze window: run without the API */ }

  const mount = guard(() => {
    app = createApp({ WS_URL, lang, title, color: ds.color, K, base, user: ds.user, userSig: ds.userSig,
      userExpires: ds.userExpires, userNonce: ds.userNonce, sigUrl: ds.userSigUrl });
    if (wantOpen !== null) app.setOpen(wantOpen, false);
  });
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
}

// --- strings
const STR = {
  en: {
    open: 'Open chat', close: 'Close chat',
    unread: (n) => (n === 1 ? '1 unread message' : n + ' unread messages'),
    newMsgs: (n) => (n === 1 ? 'New chat message' : n + ' new chat messages'),
    notice: 'Not for emergencies — call 911.',
    intro: 'Hello! Ask us about appointments, locations, hours, insurance or billing. Please don\'t share detailed medical information here.',
    conversation: 'Conversation', label: 'Message', placeholder: 'Type your message…',
    hint: 'Press Enter to send, Shift+Enter for a new line.',
    send: 'Send', handoff: 'Talk to a person', end: 'End chat',
    endAsk: 'End this chat?', endNo: 'Keep chatting',
    ended: 'This chat has ended.', newChat: 'Start a new chat',
    connecting: 'Connecting…', connected: 'Online', reconnecting: 'Reconnecting…',
    offline: 'You are offline. We will reconnect automatically.',
    sending: 'Sending…', retrying: 'Not delivered yet, retrying…',
    failed: 'Not sent', you: 'You', bot: 'Assistant', staff: 'Staff', system: 'Notice',
    suggestions: 'Suggested replies',
    helpful: 'Was this helpful?', yes: 'Yes', no: 'No',
    tooLong: 'This message is too long. Please keep it under 2,000 characters.',
    full: 'This chat has reached its length limit. Please start a new chat, or ask for a person.',
    earlier: 'Show earlier messages',
    signIn: 'We could not confirm your sign-in on this page (it may have expired). Reload the page to continue your conversation.',
    reload: 'Reload page',
    rejected: 'This message could not be sent. Please rephrase it and try again.',
    queued: (n, s) => 'You are number ' + n + ' in line.' +
      (s == null ? '' : ' Estimated wait: about ' + mins(s) + (mins(s) === 1 ? ' minute.' : ' minutes.')),
    joined: (n) => n + ' joined the chat.',
    typing: (n) => n + ' is typing…',
    handoffAsk: 'Asking for a staff member to join…',
    handoffNo: 'Chatting with a staff member is not available right now. Please call the clinic during office hours. In an emergency, call 911.',
    count: (n, max) => n + ' / ' + max + ' characters',
    rateAsk: 'How was this chat?', of: 'of', words: ['very poor', 'poor', 'okay', 'good', 'excellent'],
    comment: 'Anything else you would like to tell us? (optional)', skip: 'Skip',
    thanks: 'Thank you for your feedback!',
  },
  es: {
    open: 'Abrir chat', close: 'Cerrar chat',
    unread: (n) => (n === 1 ? '1 mensaje sin leer' : n + ' mensajes sin leer'),
    newMsgs: (n) => (n === 1 ? 'Nuevo mensaje en el chat' : n + ' mensajes nuevos en el chat'),
    notice: 'No es para emergencias: llame al 911.',
    intro: '¡Hola! Pregúntenos sobre citas, ubicaciones, horarios, seguros o facturación. Por favor, no comparta aquí información médica detallada.',
    conversation: 'Conversación', label: 'Mensaje', placeholder: 'Escriba su mensaje…',
    hint: 'Pulse Intro para enviar y Mayús+Intro para una nueva línea.',
    send: 'Enviar', handoff: 'Hablar con una persona', end: 'Terminar chat',
    endAsk: '¿Terminar este chat?', endNo: 'Seguir conversando',
    ended: 'Este chat ha terminado.', newChat: 'Iniciar un chat nuevo',
    connecting: 'Conectando…', connected: 'En línea', reconnecting: 'Reconectando…',
    offline: 'No tiene conexión. Volveremos a conectar automáticamente.',
    sending: 'Enviando…', retrying: 'Aún no entregado, reintentando…',
    failed: 'No enviado', you: 'Usted', bot: 'Asistente', staff: 'Personal', system: 'Aviso',
    suggestions: 'Respuestas sugeridas',
    helpful: '¿Le fue útil?', yes: 'Sí', no: 'No',
    tooLong: 'Este mensaje es demasiado largo. Use menos de 2000 caracteres.',
    full: 'Este chat llegó a su límite de mensajes. Inicie un chat nuevo o pida hablar con una persona.',
    earlier: 'Mostrar mensajes anteriores',
    signIn: 'No pudimos confirmar su sesión en esta página (puede haber caducado). Vuelva a cargar la página para continuar su conversación.',
    reload: 'Volver a cargar',
    rejected: 'No se pudo enviar este mensaje. Escríbalo de otra forma e inténtelo de nuevo.',
    queued: (n, s) => 'Usted es el número ' + n + ' en la fila.' +
      (s == null ? '' : ' Espera estimada: unos ' + mins(s) + (mins(s) === 1 ? ' minuto.' : ' minutos.')),
    joined: (n) => n + ' se unió al chat.',
    typing: (n) => n + ' está escribiendo…',
    handoffAsk: 'Pidiendo que se una alguien del personal…',
    handoffNo: 'En este momento no es posible chatear con el personal. Llame a la clínica en horario de atención. En una emergencia, llame al 911.',
    count: (n, max) => n + ' / ' + max + ' caracteres',
    rateAsk: '¿Qué le pareció este chat?', of: 'de', words: ['muy malo', 'malo', 'regular', 'bueno', 'excelente'],
    comment: '¿Algo más que quiera contarnos? (opcional)', skip: 'Omitir',
    thanks: '¡Gracias por su opinión!',
  },
};
function mins(s) { return Math.max(1, Math.round(Number(s) / 60)); }

// --- colour
function parseHex(c) {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(c || '').trim());
  if (!m) return null;
  const h = m[1].length === 3 ? m[1].replace(/./g, '$&$&') : m[1];
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
}
function lum(rgb) {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]);
}
function contrast(a, b) {
  const x = lum(a), y = lum(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}
const hx = (v) => Math.round(v).toString(16).padStart(2, '0');
const hex = (rgb) => '#' + rgb.map(hx).join('');
function darken(rgb, against, ratio) {
  let c = rgb;
  for (let i = 0; i < 60 && contrast(c, against) < ratio; i++) c = c.map((v) => v * 0.92);
  return c;
}
// brand: clinic-coloured surfaces; fg: text on them; accent: clinic colour
// as text and borders on the white panel.
function palette(color) {
  const WHITE = [255, 255, 255], INK = [17, 17, 17], BUBBLE = [241, 243, 245];
  let brand = parseHex(color) || [11, 110, 79];
  let fg = contrast(brand, WHITE) >= contrast(brand, INK) ? WHITE : INK;
  if (contrast(brand, fg) < 4.5) { brand = darken(brand, WHITE, 4.5); fg = WHITE; }
  const accent = darken(brand, BUBBLE, 4.5);
  return { brand: hex(brand), fg: hex(fg), accent: hex(accent) };
}

// --- storage: web storage, or memory where it is blocked (third-party iframes)
function makeStore(kind) {
  let s = null;
  const mem = new Map();
  try { s = window[kind]; s.setItem('frontdesk:probe', '1'); s.removeItem('frontdesk:probe'); } catch (_) { s = null; }
  return {
    get(k) { try { return s ? s.getItem(k) : (mem.has(k) ? mem.get(k) : null); } catch (_) { return null; } },
    set(k, v) { try { if (s) s.setItem(k, v); else mem.set(k, v); } catch (_) { mem.set(k, v); } },
    del(k) { try { if (s) s.removeItem(k); mem.delete(k); } catch (_) { mem.delete(k); } },
  };
}
function newId() { // randomUUID needs a secure context
  const c = crypto;
  return 'c-' + (c.randomUUID ? c.randomUUID()
    : Array.from(c.getRandomValues(new Uint8Array(16)), hx).join(''));
}
function graphemes(s) {
  return Array.from(Intl.Segmenter ? new Intl.Segmenter().segment(s) : s).length;
}

// --- DOM helpers
/** A short, non-reversible tag of a user id (two 32-bit FNV-1a hashes):
 * enough to notice a different user, without keeping the id itself. */
function ownerOf(user) {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < user.length; i++) {
    const c = user.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 ^ 0x2f) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
const btn = (cls, onclick, attrs, ...kids) => h('button', { type: 'button', class: cls, onclick, ...attrs }, ...kids);
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), guard(v));
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids) if (kid != null) el.append(kid);
  return el;
}
const ICONS = {
  chat: 'M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 4v-4A2.5 2.5 0 0 1 4 13.5z',
  close: 'M6 6l12 12M18 6L6 18',
  down: 'M6 9l6 6 6-6',
  send: 'M4 12l16-8-6 16-2.5-6.5z M11.5 13.5L20 4',
  person: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M4.5 20a7.5 7.5 0 0 1 15 0',
  end: 'M5 5h14v14H5z',
  alert: 'M12 3l9.5 17h-19z M12 10v4.5 M12 17.2v.3',
};
function icon(name, size) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  const set = { viewBox: '0 0 24 24', width: size || 24, height: size || 24, fill: 'none',
    stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round',
    'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false' };
  for (const k in set) svg.setAttribute(k, set[k]);
  const p = document.createElementNS(NS, 'path');
  p.setAttribute('d', ICONS[name]);
  svg.append(p);
  return svg;
}

// Sanitizer for the `html` of bot replies (the server sanitizes too): builds
// fresh nodes, keeps only the listed tags, drops every attribute but a checked
// href on <a>.
const KEEP = new Set(['p', 'br', 'strong', 'em', 'b', 'i', 'ul', 'ol', 'li', 'code', 'blockquote']);
const HEAD = new Set(['h1', 'h2', 'h3', 'h4']);
const SKIP = new Set(['script', 'style', 'template', 'noscript', 'iframe', 'object', 'embed',
  'svg', 'math', 'head', 'title', 'textarea', 'select', 'button', 'input', 'frame', 'frameset']);
const BLOCK = new Set(['div', 'section', 'article', 'header', 'footer', 'tr', 'table', 'dl',
  'dt', 'dd', 'figure', 'pre', 'h5', 'h6', 'hr', 'nav', 'aside', 'main', 'address']);
const SCHEMES = ['http:', 'https:', 'mailto:', 'tel:'];
function sanitize(html, baseHref) {
  // DOMParser documents are inert: nothing loads or runs.
  const doc = new DOMParser().parseFromString(String(html), 'text/html');
  const out = document.createDocumentFragment();
  (function walk(src, dst, depth) {
    for (const n of Array.from(src.childNodes)) {
      if (n.nodeType === 3) { dst.append(document.createTextNode(n.data)); continue; }
      if (n.nodeType !== 1 || depth > 40) continue;
      const tag = n.localName;
      if (SKIP.has(tag)) continue;
      let el = null, inner = null;
      if (KEEP.has(tag)) el = inner = document.createElement(tag);
      else if (HEAD.has(tag)) { inner = document.createElement('strong'); el = h('p', { class: 'h' }, inner); }
      else if (tag === 'a') {
        let url = null;
        // No href (the server stripped an unsafe one): text, not a link here.
        const raw = (n.getAttribute('href') || '').trim();
        try { url = raw ? new URL(raw, baseHref) : null; } catch (_) { url = null; }
        if (url && SCHEMES.includes(url.protocol)) {
          el = inner = h('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' });
        }
      }
      if (el) { walk(n, inner, depth + 1); dst.append(el); continue; }
      walk(n, dst, depth + 1);
      if (BLOCK.has(tag)) dst.append(document.createElement('br'));
      else if (tag === 'td' || tag === 'th') dst.append(document.createTextNode(' '));
    }
  })(doc.body, out, 0);
  return out;
}

// --- styles
function css(p) {
  return `
:host{all:initial !important;display:block !important}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none !important}
.root{--brand:${p.brand};--fg:${p.fg};--accent:${p.accent};--ink:#1b1f24;--muted:#4a525c;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink)}
button,textarea{font:inherit;color:inherit;margin:0;text-transform:none;letter-spacing:normal}
button{cursor:pointer;-webkit-appearance:none;appearance:none}
:focus{outline:none}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px;box-shadow:0 0 0 2px #fff}
.sr{position:absolute !important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.launcher,.panel{position:fixed;right:20px;z-index:2147483000}
.launcher,.ibtn,.send{display:flex;align-items:center;justify-content:center;padding:0}
.launcher,.send,.dot,.typing span{border-radius:50%}
.launcher{bottom:20px;width:56px;height:56px;border:2px solid #fff;box-shadow:0 4px 14px rgba(0,0,0,.28)}
.launcher:focus-visible{outline:3px solid #111;outline-offset:3px;box-shadow:0 0 0 3px #fff}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;
background:#b3261e;color:#fff;font-size:12px;font-weight:700;line-height:18px;text-align:center;border:2px solid #fff}
.panel{bottom:88px;width:380px;max-width:calc(100vw - 40px);height:620px;max-height:calc(100vh - 108px);
display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;
box-shadow:0 12px 40px rgba(0,0,0,.28),0 0 0 1px rgba(0,0,0,.08)}
.head{display:flex;align-items:center;gap:8px;padding:10px 6px 10px 16px;--accent:var(--fg)}
.head :focus-visible{box-shadow:none;outline-color:var(--fg);outline-offset:-3px}
.htext{flex:1;min-width:0}
h2{margin:0;font-size:17px;font-weight:700;line-height:1.3;overflow-wrap:anywhere}
.status{margin:2px 0 0;font-size:13px;display:flex;align-items:center;gap:6px}
.dot{width:9px;height:9px;border:2px solid currentColor;flex:none}
.st-connected .dot{background:currentColor}
.ibtn,.send{flex:none;width:44px;height:44px;border:0}
.ibtn{border-radius:8px;background:transparent;color:inherit}
.ibtn:hover{background:rgba(127,127,127,.22)}
.notice{margin:0;padding:8px 16px;display:flex;gap:8px;align-items:center;background:#fff4e0;
color:#5a3600;font-size:14px;font-weight:600;border-bottom:1px solid #f0d9b0}
.notice svg{flex:none;color:#8a5300}
.log{flex:1;overflow-y:auto;padding:14px 14px 6px;background:#fff;overscroll-behavior:contain}
.intro{margin:0 0 12px;padding:10px 12px;border-radius:10px;background:#f1f3f5;color:var(--ink);font-size:14px}
ol{list-style:none;margin:0;padding:0}
.msg{margin:0 0 12px;display:flex;flex-direction:column;align-items:flex-start}
.bubble{max-width:86%;padding:9px 12px;border-radius:14px 14px 14px 4px;background:#f1f3f5;color:var(--ink);
white-space:pre-wrap;overflow-wrap:anywhere}
.rich{white-space:normal}
.rich p,.rich ul,.rich ol,.rich blockquote{margin:0 0 6px}
.rich>:last-child{margin-bottom:0}
.rich ul,.rich ol{padding-left:20px}
.rich ul{list-style:disc}.rich ol{list-style:decimal}
.rich blockquote{padding-left:10px;border-left:3px solid #c4c9cf}
.rich code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;background:#e2e6ea;padding:0 3px;border-radius:3px}
.rich a{color:var(--accent);text-decoration:underline;font-weight:600}
.patient{align-items:flex-end}
.patient .bubble{border-radius:14px 14px 4px 14px}
.patient .meta{justify-content:flex-end;text-align:right}
.system{align-items:center}
.system .bubble{background:transparent;color:var(--muted);font-size:13.5px;text-align:center;max-width:100%;padding:2px 8px}
.agent .bubble{background:#e8f0fb;border:1px solid #c9d9f0}
.meta,.count,.scale{font-size:12.5px;color:var(--muted)}
.meta{margin-top:3px;display:flex;gap:6px;flex-wrap:wrap}
.state{font-style:italic}
.state.bad,.count.bad{color:#a11d16;font-style:normal;font-weight:600}
.choices{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px;max-width:100%}
.fb{align-items:center}.fbq{font-size:.85em;margin-right:4px}
.choice{min-height:44px;padding:8px 14px;border-radius:22px;border:2px solid var(--accent);background:#fff;color:var(--accent);font-weight:600;text-align:left}
.choice:disabled{cursor:default;border-color:#c4c9cf;color:#5f6770}
.queue,.typing{margin:0 0 10px;font-size:13.5px;color:var(--muted)}
.queue{padding:8px 10px;border-radius:8px;background:#f1f3f5;color:var(--ink)}
.typing span{display:inline-block;width:6px;height:6px;margin-left:3px;background:currentColor}
.bar,.newbar{border-top:1px solid #e3e6ea}
.bar{display:flex;gap:8px;flex-wrap:wrap;align-items:center;padding:8px 12px 0}
.bar p{margin:0;flex-basis:100%;font-weight:600}
.tbtn{min-height:44px;padding:8px 11px;display:inline-flex;align-items:center;gap:5px;border-radius:22px;
border:1px solid #aab1b9;background:#fff;color:var(--ink);font-size:14px;font-weight:600}
.choice:hover:not(:disabled),.tbtn:hover{background:#f1f3f5}
.tbtn.earlier{display:flex;margin:4px auto 8px}
.launcher,.head,.patient .bubble,.send,.choice.chosen,.choice.star[aria-pressed=true],.tbtn.primary{background:var(--brand);color:var(--fg)}
.choice.chosen,.choice.star[aria-pressed=true],.tbtn.primary{border-color:var(--brand)}
.composer{display:flex;gap:8px;align-items:flex-end;padding:8px 12px 12px}
textarea{flex:1;min-width:0;min-height:44px;max-height:140px;resize:none;padding:10px 12px;font-size:16px;line-height:1.35;
border:1px solid #7a828c;border-radius:12px;background:#fff;color:var(--ink)}
textarea::placeholder{color:#5f6770;opacity:1}
.count{margin:0;padding:0 14px 8px}
.newbar{padding:8px 12px 12px}
h3{margin:0 0 8px;font-size:15px;font-weight:700}
.stars{display:flex;gap:6px}
.star{flex:1;max-width:56px;min-height:48px;border-radius:10px;font-size:18px;padding:0;text-align:center}
.scale{display:flex;justify-content:space-between;max-width:304px;margin:4px 0 8px}
.more label{display:block;margin-bottom:4px;font-size:14px}
.more textarea{width:100%;min-height:64px}
.row{display:flex;gap:8px;margin-bottom:8px}
.thanks{margin:0 0 10px;font-weight:600}.thanks:empty{margin:0}
@media (prefers-reduced-motion:no-preference){
.panel,.newbar{animation:fd-in .16s ease-out}
@keyframes fd-in{from{opacity:0;transform:translateY(8px)}to{opacity:1;transform:none}}
.typing span{animation:fd-dot 1.2s infinite ease-in-out}
.typing span:nth-child(2){animation-delay:.2s}.typing span:nth-child(3){animation-delay:.4s}
@keyframes fd-dot{0%,80%,100%{opacity:.25}40%{opacity:1}}
}
@media (max-width:480px),(max-height:520px){
.panel{inset:0;width:100%;max-width:none;height:100%;max-height:none;border-radius:0}
.open .launcher{display:none}
}
@media (max-width:359px){.tbtn svg{display:none}}
@media (forced-colors:active){
.launcher,.send,.choice,.tbtn,.bubble{border:2px solid ButtonText}
.dot{forced-color-adjust:none}
}
@media print{.root{display:none}}
`;
}

// --- the app
function createApp(cfg) {
  const t = STR[cfg.lang];
  const local = makeStore('localStorage');
  const session = makeStore('sessionStorage');
  const KEY = { resume: cfg.K + 'resume', owner: cfg.K + 'owner', outbox: cfg.K + 'outbox', draft: cfg.K + 'draft', open: cfg.K + 'open' };
  // The stored chat belongs to a digest of the signed-in user ('' signed
  // out); on a shared computer another user's chat and outbox are dropped.
  const owner = cfg.user && cfg.userSig ? ownerOf(cfg.user) : '';
  if (local.get(KEY.resume) && (local.get(KEY.owner) || '') !== owner) {
    local.del(KEY.resume);
    local.del(KEY.outbox);
    local.del(KEY.draft);
  }
  const MAX = 2000;
  const locale = cfg.lang === 'es' ? 'es' : 'en-US';
  const fmtTime = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
  const fmtDay = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

  const S = {
    ws: null, started: false, attempt: 0, timer: null, wanted: false,
    token: local.get(KEY.resume), conversation: null,
    outbox: readOutbox(), els: new Map(), pend: new Map(),
    maxSeq: 0, lastPatient: 0, localN: 0, open: false, unread: 0, ended: false,
    renewals: 0, signInLost: false, wantHandoff: false, handoffSent: false, wantEnd: false, wantNew: false, agent: null, typingTimer: 0,
    endWs: null, score: 0, rateQ: null,
  };

  // --- DOM
  const host = document.createElement('frontdesk-widget');
  const root = host.attachShadow({ mode: 'open' });
  const sheet = css(palette(cfg.color));
  try {
    const cs = new CSSStyleSheet();
    cs.replaceSync(sheet);
    root.adoptedStyleSheets = [cs];
  } catch (_) {
    root.append(h('style', { text: sheet }));
  }
  const ui = {};
  ui.badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
  ui.launcher = btn('launcher', () => setOpen(!S.open, true), { 'aria-expanded': 'false', 'aria-controls': 'fd-panel' },
    icon('chat', 28), ui.badge);
  ui.statusText = h('span', { text: '' });
  ui.status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), ui.statusText);
  ui.list = h('ol', { class: 'list' });
  ui.queue = h('p', { class: 'queue', hidden: true });
  ui.typing = h('p', { class: 'typing', hidden: true });
  ui.intro = h('p', { class: 'intro', text: t.intro }); // until the server's greeting
  // Long chats arrive as their newest page; older ones on request.
  ui.earlier = btn('tbtn earlier', requestEarlier, { hidden: true, text: t.earlier });
  ui.log = h('div', { class: 'log', role: 'region', 'aria-label': t.conversation, tabindex: '0' },
    ui.intro, ui.earlier, ui.list, ui.queue, ui.typing);
  ui.endBtn = btn('tbtn', () => showConfirm(true), {}, icon('end', 16), t.end);
  ui.actions = h('div', { class: 'bar' }, btn('tbtn', requestHandoff, {}, icon('person', 18), t.handoff), ui.endBtn);
  ui.endNo = btn('tbtn', () => showConfirm(false), { text: t.endNo });
  ui.confirm = h('div', { class: 'bar', hidden: true, role: 'group', 'aria-labelledby': 'fd-endask' },
    h('p', { id: 'fd-endask', text: t.endAsk }), btn('tbtn primary', endChat, { text: t.end }), ui.endNo);
  ui.input = h('textarea', { id: 'fd-input', rows: '1', placeholder: t.placeholder,
    'aria-describedby': 'fd-hint fd-count', autocomplete: 'off', enterkeyhint: 'send' });
  ui.composer = h('form', { class: 'composer', novalidate: true },
    h('label', { class: 'sr', for: 'fd-input', text: t.label }),
    h('span', { class: 'sr', id: 'fd-hint', text: t.hint }),
    ui.input,
    h('button', { type: 'submit', class: 'send', 'aria-label': t.send }, icon('send', 22)));
  ui.count = h('p', { class: 'count', id: 'fd-count', hidden: true });
  ui.newChat = btn('tbtn primary', newChat, { text: t.newChat });
  // After the patient ends the chat: a score, then an optional comment.
  ui.rq = h('h3', { id: 'fd-rq', tabindex: '-1', text: t.rateAsk });
  ui.stars = h('div', { class: 'stars', role: 'group', 'aria-labelledby': 'fd-rq' },
    ...t.words.map((w, i) => btn('choice star', () => rate(i + 1),
      { 'aria-pressed': 'false', 'aria-label': i + 1 + ' ' + t.of + ' 5, ' + w, text: i + 1 })));
  const cap = (i) => h('span', { text: t.words[i][0].toUpperCase() + t.words[i].slice(1) });
  ui.comment = h('textarea', { id: 'fd-comment', rows: '2', maxlength: '1000' });
  ui.more = h('div', { class: 'more', hidden: true },
    h('label', { for: 'fd-comment', text: t.comment }), ui.comment,
    h('div', { class: 'row' }, btn('tbtn primary', () => rated(true), { text: t.send }),
      btn('tbtn', () => rated(false), { text: t.skip })));
  ui.ask = h('div', {}, ui.rq, ui.stars, h('p', { class: 'scale', 'aria-hidden': 'true' }, cap(0), cap(4)), ui.more);
  ui.thanks = h('p', { class: 'thanks', role: 'status', 'aria-live': 'polite' });
  ui.newBar = h('div', { class: 'newbar', hidden: true }, ui.ask, ui.thanks, ui.newChat);
  ui.live = h('div', { class: 'sr', 'aria-live': 'polite' });
  ui.panel = h('section', { class: 'panel', id: 'fd-panel', role: 'dialog', 'aria-modal': 'false',
    'aria-labelledby': 'fd-title', hidden: true },
  h('div', { class: 'head' },
    h('div', { class: 'htext' }, h('h2', { id: 'fd-title', text: cfg.title }), ui.status),
    btn('ibtn', () => setOpen(false, true), { 'aria-label': t.close }, icon('close', 22))),
  h('p', { class: 'notice' }, icon('alert', 18), t.notice),
  ui.log, ui.actions, ui.confirm, ui.composer, ui.count, ui.newBar);
  ui.root = h('div', { class: 'root', lang: cfg.lang }, ui.panel, ui.launcher, ui.live);
  root.append(ui.root);
  document.body.appendChild(host);

  ui.composer.addEventListener('submit', guard((e) => { e.preventDefault(); submit(); }));
  ui.input.addEventListener('keydown', guard((e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  }));
  ui.input.addEventListener('input', guard(onInput));
  ui.panel.addEventListener('keydown', guard((e) => {
    if (e.key !== 'Escape' || e.isComposing) return;
    e.preventDefault();
    if (!ui.confirm.hidden) showConfirm(false);
    else setOpen(false, true);
  }));

  ui.input.value = session.get(KEY.draft) || '';
  setStatus('idle');
  updateLauncher();
  for (const item of S.outbox) renderPending(item, 'retrying');

  window.addEventListener('online', guard(() => { if (S.wanted && !S.ws) { S.attempt = 0; connect(); } }));
  window.addEventListener('offline', guard(() => { if (!S.started) setStatus('offline'); }));
  document.addEventListener('visibilitychange', guard(() => {
    if (document.visibilityState === 'visible' && S.wanted && !S.ws && S.timer) connect();
  }));
  window.addEventListener('storage', guard(onStorage));

  // Connect now only to restore a chat or deliver messages; else on first open.
  if (S.token || S.outbox.length) want();
  if (session.get(KEY.open) === '1') setOpen(true, false);

  // --- opening and closing
  function setOpen(open, moveFocus) {
    open = !!open;
    const focusInside = root.activeElement && ui.panel.contains(root.activeElement);
    S.open = open;
    ui.panel.hidden = !open;
    ui.root.classList.toggle('open', open);
    ui.launcher.setAttribute('aria-expanded', String(open));
    ui.launcher.replaceChild(icon(open ? 'down' : 'chat', 28), ui.launcher.firstChild);
    if (open) { session.set(KEY.open, '1'); } else { session.del(KEY.open); }
    if (open) {
      S.unread = 0;
      want();
      scrollDown(true);
      autosize();
      if (moveFocus) (S.ended ? (ui.ask.hidden ? ui.newChat : ui.rq) : ui.input).focus();
    } else {
      showConfirm(false);
      if (moveFocus || focusInside) ui.launcher.focus();
    }
    updateLauncher();
  }
  function updateLauncher() {
    ui.badge.hidden = S.open || !S.unread;
    ui.badge.textContent = S.unread > 99 ? '99+' : String(S.unread);
    ui.launcher.setAttribute('aria-label', S.open ? t.close
      : t.open + ' – ' + cfg.title + (S.unread ? ' (' + t.unread(S.unread) + ')' : ''));
  }

  // --- connection
  function want() {
    if (S.signInLost) return; // only a reload brings a fresh signature
    S.wanted = true;
    if (!S.ws && !S.timer) connect();
  }
  function setStatus(st) {
    const text = { idle: '', connecting: t.connecting, connected: t.connected,
      reconnecting: t.reconnecting, offline: t.offline }[st];
    ui.status.className = 'status st-' + st;
    if (ui.statusText.textContent !== text) ui.statusText.textContent = text;
  }
  function connect() {
    clearTimeout(S.timer);
    S.timer = null;
    if (S.ws) return;
    setStatus(navigator.onLine === false ? 'offline' : S.attempt ? 'reconnecting' : 'connecting');
    let ws;
    try { ws = new WebSocket(cfg.WS_URL); } catch (e) { warn(e); retryLater(); return; }
    S.ws = ws;
    S.started = false;
    const stall = setTimeout(() => { if (ws.readyState !== 1) ws.close(); }, 10000);
    ws.onopen = guard(() => { clearTimeout(stall); sendStart(); });
    ws.onmessage = guard((ev) => {
      if (S.ws !== ws || typeof ev.data !== 'string') return;
      let m;
      try { m = JSON.parse(ev.data); } catch (_) { return; }
      if (m && HANDLE.hasOwnProperty(m.type)) HANDLE[m.type](m);
    });
    ws.onclose = guard((ev) => {
      clearTimeout(stall);
      if (S.ws !== ws) return;
      S.ws = null;
      S.started = false;
      hideTyping();
      if (S.ended && !S.wantEnd) { // nothing to reconnect for
        S.wanted = false;
        S.rateQ = null;
        setStatus('idle');
        return;
      }
      for (const item of S.outbox) markPending(item.id, 'retrying');
      if (ev.code === 1012) S.attempt = 0; // server restarting
      retryLater();
    });
  }
  function retryLater() {
    const base = Math.min(30000, 500 * Math.pow(2, S.attempt));
    const delay = Math.min(30000, base * (0.5 + Math.random()));
    S.attempt++;
    setStatus(navigator.onLine === false ? 'offline' : 'reconnecting');
    clearTimeout(S.timer);
    S.timer = setTimeout(guard(connect), delay);
  }
  function dropSocket() { // its close event is then ignored
    const ws = S.ws;
    S.ws = null;
    try { if (ws) ws.close(1000); } catch (_) { /* closing anyway */ }
  }
  function send(obj) {
    if (!S.ws || S.ws.readyState !== 1) return false;
    try { S.ws.send(JSON.stringify(obj)); return true; } catch (_) { return false; }
  }
  function sendStart() {
    const f = { type: 'start', lang: cfg.lang };
    if (S.token) f.resume = S.token;
    if (cfg.user && cfg.userSig) { f.user = cfg.user; f.user_sig = cfg.userSig; }
    if (f.user && cfg.userExpires && cfg.userNonce) { f.user_expires = cfg.userExpires; f.user_nonce = cfg.userNonce; }
    send(f);
  }
  // An expired (or used) identity signature: fetch a fresh one from the
  // clinic's site if it offers one, else ask for a reload. Never fall back to
  // another identity: the patient would lose their chat.
  function renewIdentity() {
    let url = null;
    try { url = cfg.sigUrl ? new URL(cfg.sigUrl, document.baseURI) : null; } catch (_) { url = null; }
    if (!url || url.origin !== location.origin || S.renewals >= 2) { signInLost(); return; }
    S.renewals++;
    fetch(url.href, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status))))
      .then((j) => {
        if (!j || j.user !== cfg.user || !j.sig || !j.nonce || !j.expires) throw new Error('no signature for this user');
        cfg.userSig = String(j.sig);
        cfg.userNonce = String(j.nonce);
        cfg.userExpires = String(j.expires);
        if (S.ws && !S.started) sendStart();
      })
      .catch((e) => { warn(e); signInLost(); });
  }
  function signInLost() {
    if (S.signInLost) return;
    S.signInLost = true;
    S.wanted = false;
    clearTimeout(S.timer);
    S.timer = null;
    dropSocket();
    setStatus('idle');
    const li = h('li', { class: 'msg system' }, h('div', { class: 'bubble' }, h('p', { text: t.signIn }),
      btn('tbtn primary', () => location.reload(), { text: t.reload })));
    place(li, localKey());
    incoming(t.signIn);
    scrollDown(true);
  }

  // Frame handlers; unknown frames (and `rated`) are ignored.
  const HANDLE = { started: onStarted, ack: onAck, reply: onReply, ended: onEnded, error: onError,
    queued: onQueued, agent_joined: onAgent, typing: onTyping, history: onHistory };
  function requestEarlier() {
    let oldest = Infinity;
    for (const seq of S.els.keys()) oldest = Math.min(oldest, seq);
    if (!Number.isFinite(oldest) || !send({ type: 'history', before: oldest })) return;
    ui.earlier.disabled = true;
  }
  function onHistory(m) {
    const msgs = Array.isArray(m.messages) ? m.messages : [];
    // Older messages go above; what the patient was reading stays in view,
    // and focus stays on the button (or the log once it is gone).
    const before = ui.log.scrollHeight;
    for (const msg of msgs) addMessage(msg, false, true);
    ui.log.scrollTop += ui.log.scrollHeight - before;
    ui.earlier.disabled = false;
    ui.earlier.hidden = !m.more;
    (m.more ? ui.earlier : ui.log).focus();
  }
  function onStarted(m) {
    S.started = true;
    S.attempt = 0;
    S.renewals = 0;
    setStatus('connected');
    if (typeof m.resume === 'string' && m.resume && m.resume !== S.token) {
      S.token = m.resume;
      local.set(KEY.resume, m.resume);
    }
    if (owner) local.set(KEY.owner, owner);
    else local.del(KEY.owner);
    if (S.conversation && m.conversation !== S.conversation) clearLog();
    S.conversation = m.conversation;
    if (!S.wantEnd) setEnded(false);
    ui.earlier.hidden = !m.more_history;
    ui.earlier.disabled = false;
    const hist = Array.isArray(m.history) ? m.history : [];
    for (const msg of hist) {
      if (msg && msg.from === 'patient' && msg.id && S.pend.has(msg.id)) onAck({ id: msg.id, seq: msg.seq });
      else addMessage(msg, false);
    }
    for (const item of S.outbox.slice()) sendSay(item);
    if (S.wantHandoff) { S.wantHandoff = false; send({ type: 'handoff' }); }
    if (S.wantEnd) { S.wantEnd = false; sendEnd(); flushRate(); }
    scrollDown(true);
  }
  function onAck(m) {
    const seq = Number(m.seq);
    const el = S.pend.get(m.id);
    outboxRemove(m.id);
    if (!el) return;
    S.pend.delete(m.id);
    const st = el.querySelector('.state');
    if (st) st.remove();
    if (!(seq > 0) || S.els.has(seq)) { el.remove(); refreshChoices(); return; }
    el.classList.remove('pending');
    S.els.set(seq, el);
    S.maxSeq = Math.max(S.maxSeq, seq);
    S.lastPatient = Math.max(S.lastPatient, seq);
    place(el, seq);
    refreshChoices();
  }
  function onReply(m) {
    if (m.from === 'agent') hideTyping();
    addMessage(m, true);
  }
  function onEnded() {
    flushRate();
    if (S.wantNew) { S.wantNew = false; S.started = false; sendStart(); return; }
    if (S.ended) return; // shown already while the end waited to be sent
    setEnded(true);
    hideTyping();
    ui.queue.hidden = true;
    note(t.ended, true);
  }
  function onError(m) {
    const code = String(m.code || '');
    if ((code === 'identity_expired' || code === 'bad_identity') && !S.started) {
      renewIdentity();
      return;
    }
    if (code === 'unknown_resume') {
      S.token = null;
      local.del(KEY.resume);
      sendStart();
      return;
    }
    const item = m.id ? S.outbox.find((o) => o.id === m.id) : null;
    if (item) {
      if (code === 'rate_limited' || code === 'unavailable') {
        markPending(item.id, 'retrying');
        const wait = (code === 'rate_limited' ? 8000 : 2000) * (1 + Math.min(item.tries || 0, 4));
        item.tries = (item.tries || 0) + 1;
        setTimeout(guard(() => { if (S.outbox.includes(item)) sendSay(item); }), wait * (0.75 + Math.random() / 2));
      } else {
        outboxRemove(item.id);
        const why = code === 'text_too_long' ? t.tooLong : code === 'conversation_full' ? t.full : t.rejected;
        markPending(item.id, 'failed', why);
        const li = S.pend.get(item.id);
        if (li) li._k = S.maxSeq + 0.5; // stays in place, no longer pending
        S.pend.delete(item.id);
        if (!ui.input.value.trim()) { ui.input.value = item.text; onInput(); }
        refreshChoices();
      }
      return;
    }
    if (code === 'unknown_type' && S.handoffSent) {
      S.handoffSent = false;
      note(t.handoffNo, true);
    }
  }
  function onQueued(m) {
    const n = Number(m.position);
    if (!(n > 0)) return;
    const s = m.estimated_wait_s == null ? null : Number(m.estimated_wait_s);
    const text = t.queued(n, Number.isFinite(s) ? s : null);
    if (ui.queue.textContent !== text) {
      ui.queue.textContent = text;
      announce(text);
    }
    ui.queue.hidden = false;
    scrollDown(false);
  }
  function onAgent(m) {
    S.agent = typeof m.name === 'string' && m.name.trim() ? m.name.trim().slice(0, 60) : t.staff;
    S.handoffSent = false;
    ui.queue.hidden = true;
    note(t.joined(S.agent), true);
  }
  function onTyping(m) {
    if (m.from !== 'agent') return;
    ui.typing.textContent = t.typing(S.agent || t.staff);
    for (let i = 0; i < 3; i++) ui.typing.append(h('span', { 'aria-hidden': 'true' }));
    ui.typing.hidden = false;
    clearTimeout(S.typingTimer);
    S.typingTimer = setTimeout(guard(hideTyping), 6000);
    scrollDown(false);
  }
  function hideTyping() {
    clearTimeout(S.typingTimer);
    ui.typing.hidden = true;
  }

  // --- messages
  function who(m) {
    if (m.from === 'patient') return t.you;
    if (m.from === 'bot') return t.bot;
    if (m.from === 'agent') return (typeof m.name === 'string' && m.name) || S.agent || t.staff;
    return t.system;
  }
  function timeEl(at) {
    const d = new Date(at);
    if (isNaN(d)) return null;
    const today = new Date().toDateString() === d.toDateString();
    return h('time', { datetime: d.toISOString(), text: (today ? fmtTime : fmtDay).format(d) });
  }
  function renderMsg(m) {
    const from = ['patient', 'bot', 'agent', 'system'].includes(m.from) ? m.from : 'system';
    const li = h('li', { class: 'msg ' + from });
    const bubble = h('div', { class: 'bubble' });
    const text = typeof m.text === 'string' ? m.text : '';
    if (from === 'bot' && typeof m.html === 'string' && m.html.trim()) {
      bubble.append(sanitize(m.html, cfg.base.href));
      bubble.classList.add('rich');
      if (!bubble.textContent.trim()) { bubble.textContent = text; bubble.classList.remove('rich'); }
    } else {
      bubble.textContent = text;
    }
    const meta = h('div', { class: 'meta' });
    if (from === 'agent') meta.append(h('span', { text: who(m) }));
    const time = timeEl(m.at);
    if (time) meta.append(time);
    li.append(h('span', { class: 'sr', text: who(m) + ': ' }), bubble, meta);
    if (from !== 'patient' && Array.isArray(m.choices) && m.choices.length) {
      const group = h('div', { class: 'choices', role: 'group', 'aria-label': t.suggestions });
      for (const c of m.choices.slice(0, 12)) {
        if (!c || typeof c.label !== 'string' || !c.label.trim()) continue;
        const value = typeof c.value === 'string' ? c.value : c.label;
        group.append(btn('choice', (e) => choose(e.currentTarget, c.label, value), { text: c.label }));
      }
      li.append(group);
    }
    // "Was this helpful?" under article answers.
    if (from === 'bot' && typeof m.article === 'string' && m.article && Number.isInteger(Number(m.seq))) {
      const fb = h('div', { class: 'choices fb', role: 'group', 'aria-label': t.helpful },
        h('span', { class: 'fbq', text: t.helpful }));
      const vote = (helpful) => () => {
        if (!send({ type: 'feedback', seq: Number(m.seq), helpful })) return;
        fb.replaceChildren(h('span', { class: 'fbq', role: 'status', text: t.thanks }));
      };
      fb.append(btn('choice', vote(true), { text: t.yes }), btn('choice', vote(false), { text: t.no }));
      li.append(fb);
    }
    return li;
  }
  function addMessage(m, live, older) {
    if (!m || typeof m !== 'object') return;
    const seq = Number(m.seq);
    if (!Number.isInteger(seq) || seq < 1 || S.els.has(seq)) return; // dedupe by seq
    const el = renderMsg(m);
    S.els.set(seq, el);
    S.maxSeq = Math.max(S.maxSeq, seq);
    if (m.from === 'patient') S.lastPatient = Math.max(S.lastPatient, seq);
    const stick = nearBottom();
    place(el, seq);
    refreshChoices();
    if (live && m.from !== 'patient') incoming(who(m) + ': ' + (el.querySelector('.bubble').textContent || ''));
    if (!older) scrollDown(stick);
  }
  // Keep the list in seq order; pending (unacked) messages stay at the end.
  function place(el, key) {
    el._k = key;
    let ref = null;
    for (let c = ui.list.lastElementChild; c; c = c.previousElementSibling) {
      if (c._k == null || c._k > key) ref = c;
      else break;
    }
    ui.list.insertBefore(el, ref);
    ui.intro.hidden = true;
  }
  function note(text, live) {
    const li = h('li', { class: 'msg system' }, h('div', { class: 'bubble', text }));
    const t0 = timeEl(new Date());
    if (t0) li.append(h('div', { class: 'meta' }, t0));
    place(li, localKey());
    if (live) incoming(text);
    scrollDown(true);
  }
  function localKey() {
    return S.maxSeq + 0.5 + Math.min(0.49, (S.localN++ % 400) * 0.001);
  }
  function incoming(text) {
    if (S.open) announce(text);
    else {
      S.unread++;
      updateLauncher();
      announce(t.newMsgs(S.unread));
    }
  }
  function announce(text) {
    ui.live.append(h('p', { text }));
    while (ui.live.childNodes.length > 3) ui.live.firstChild.remove();
  }
  function clearLog() {
    for (const c of Array.from(ui.list.children)) if (c._k != null) c.remove();
    S.els.clear();
    S.maxSeq = 0;
    S.lastPatient = 0;
    ui.intro.hidden = !!ui.list.firstChild;
    ui.queue.hidden = true;
    hideTyping();
  }
  // Choices are live only on messages after the patient's last message.
  function refreshChoices() {
    const busy = S.pend.size > 0;
    for (const g of ui.list.querySelectorAll('.choices:not(.fb)')) {
      const k = g.parentNode._k;
      const off = busy || !(k > S.lastPatient) || S.ended;
      for (const b of g.children) b.disabled = off;
    }
  }
  function nearBottom() {
    return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
  }
  function scrollDown(force) {
    if (force || nearBottom()) ui.log.scrollTop = ui.log.scrollHeight;
  }

  // --- sending
  function choose(btn, label, value) {
    if (btn.disabled) return;
    btn.classList.add('chosen');
    queueSay(label, value);
    ui.input.focus();
  }
  function submit() {
    const text = ui.input.value.trim();
    if (!text) return;
    if (graphemes(text) > MAX) { onInput(); return; }
    if (S.ended) return;
    queueSay(text, null);
    ui.input.value = '';
    session.del(KEY.draft);
    onInput();
  }
  function queueSay(text, choice) {
    const item = { id: newId(), text };
    if (choice != null) item.choice = choice;
    item.at = new Date().toISOString();
    S.outbox.push(item);
    outboxWrite((list) => { list.push(item); return list; });
    renderPending(item, 'sending');
    refreshChoices();
    scrollDown(true);
    want();
    sendSay(item);
  }
  function sendSay(item) {
    const f = { type: 'say', id: item.id, text: item.text };
    if (item.choice != null) f.choice = item.choice;
    if (S.started && send(f)) markPending(item.id, item.tries ? 'retrying' : 'sending');
  }
  function renderPending(item, state) {
    const li = renderMsg({ from: 'patient', text: item.text, at: item.at });
    li.classList.add('pending');
    S.pend.set(item.id, li);
    ui.list.append(li);
    ui.intro.hidden = true;
    markPending(item.id, state);
  }
  function markPending(id, state, why) {
    const li = S.pend.get(id);
    if (!li) return;
    let st = li.querySelector('.state');
    if (!st) { st = h('span', { class: 'state' }); li.querySelector('.meta').append(st); }
    st.classList.toggle('bad', state === 'failed');
    st.textContent = state === 'failed' ? t.failed + ': ' + why
      : state === 'retrying' ? t.retrying : t.sending;
  }
  function onInput() {
    const v = ui.input.value;
    if (v) session.set(KEY.draft, v); else session.del(KEY.draft);
    const n = v.length > MAX * 0.85 ? graphemes(v) : 0;
    ui.count.hidden = n < MAX * 0.9;
    ui.count.classList.toggle('bad', n > MAX);
    if (!ui.count.hidden) ui.count.textContent = n > MAX ? t.tooLong : t.count(n, MAX);
    autosize();
    // Let an agent see that the patient is typing; at most every 3 s.
    const now = Date.now();
    if (v && S.started && now - (S.typingSent || 0) > 3000) {
      S.typingSent = now;
      send({ type: 'typing' });
    }
  }
  function autosize() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 140) + 'px';
  }

  // --- outbox in localStorage, shared by tabs: read-modify-write per item
  function readOutbox() {
    try {
      const v = JSON.parse(local.get(KEY.outbox) || '[]');
      return Array.isArray(v) ? v.filter((o) => o && typeof o.id === 'string' && typeof o.text === 'string') : [];
    } catch (_) { return []; }
  }
  function outboxWrite(fn) {
    const list = fn(readOutbox());
    if (list.length) local.set(KEY.outbox, JSON.stringify(list)); else local.del(KEY.outbox);
  }
  function outboxRemove(id) {
    S.outbox = S.outbox.filter((o) => o.id !== id);
    outboxWrite((list) => list.filter((o) => o.id !== id));
  }
  function onStorage(e) {
    if (e.key === KEY.resume) {
      if (e.newValue && e.newValue !== S.token) {
        S.token = e.newValue; // another tab started a new conversation
        if (S.ws || S.wanted) { dropSocket(); S.attempt = 0; connect(); }
      }
    } else if (e.key === KEY.outbox) {
      const stored = new Set(readOutbox().map((o) => o.id));
      for (const item of S.outbox.slice()) {
        if (!stored.has(item.id)) { // delivered by another tab
          S.outbox = S.outbox.filter((o) => o !== item);
          const li = S.pend.get(item.id);
          if (li) { li.remove(); S.pend.delete(item.id); }
        }
      }
      refreshChoices();
    }
  }

  // --- actions
  function requestHandoff() {
    S.handoffSent = true;
    note(t.handoffAsk, true);
    if (S.ended) return;
    if (!(S.started && send({ type: 'handoff' }))) { S.wantHandoff = true; want(); }
  }
  function showConfirm(show) {
    ui.confirm.hidden = !show;
    ui.actions.hidden = show || S.ended;
    if (show) ui.endNo.focus();
    else if (root.activeElement && ui.confirm.contains(root.activeElement)) ui.endBtn.focus();
  }
  function sendEnd() {
    if (!(S.started && send({ type: 'end' }))) return false;
    S.endWs = S.ws;
    return true;
  }
  function endChat() {
    showConfirm(false);
    // Offline: end in the UI now; the end (and a rating) go on reconnect.
    if (!sendEnd()) { S.wantEnd = true; want(); onEnded(); }
  }
  function setEnded(ended) {
    const f = root.activeElement;
    S.ended = ended;
    ui.composer.hidden = ended;
    ui.actions.hidden = ended;
    ui.confirm.hidden = true;
    ui.newBar.hidden = !ended;
    if (ended) {
      S.score = 0;
      press(0);
      ui.ask.hidden = false;
      ui.more.hidden = true;
      ui.comment.value = '';
      ui.thanks.textContent = '';
    }
    if (ended && S.open && f && ui.panel.contains(f)) ui.rq.focus();
    else if (!ended && f === ui.newChat) ui.input.focus();
    refreshChoices();
  }
  function newChat() {
    setEnded(false);
    ui.input.focus();
    if (S.wantEnd) S.wantNew = true; // end the old chat first (onEnded)
    else if (S.started) { S.started = false; sendStart(); } else want();
  }

  // --- rating: one tap sends the score; a comment re-sends it with the text
  function press(n) {
    Array.from(ui.stars.children, (b, i) => b.setAttribute('aria-pressed', String(i + 1 === n)));
  }
  function rate(n) {
    S.score = n;
    press(n);
    sendRate({ type: 'rate', score: n });
    if (ui.more.hidden) { ui.more.hidden = false; ui.comment.focus(); }
  }
  function rated(withComment) {
    const c = ui.comment.value.trim();
    if (withComment && c) sendRate({ type: 'rate', score: S.score, comment: c });
    ui.ask.hidden = true;
    ui.thanks.textContent = t.thanks;
    ui.newChat.focus();
  }
  function sendRate(f) {
    S.rateQ = f;
    flushRate();
  }
  // Only the socket that ended the chat may rate it: wait while the end is
  // queued, drop the rating once that socket is gone.
  function flushRate() {
    if (!S.rateQ || S.wantEnd) return;
    if (S.endWs === S.ws) send(S.rateQ);
    S.rateQ = null;
  }

  return { setOpen, isOpen: () => S.open };
}

try {
  boot();
} catch (e) {
  warn(e);
}
})();
