// The whole app: the built client from the local stack's admin port (`/client/`), no framework.
import { PigeonholeClient, localStorageOutbox } from '/client/index.js';

const $ = (id) => document.getElementById(id);
const shown = new Set();
let client;

// A token in the fragment never reaches a server log.
const fragment = new URLSearchParams(location.hash.slice(1));
for (const field of ['url', 'token', 'peer']) if (fragment.get(field)) $(field).value = fragment.get(field);

/** The user id inside the token (its `sub`), to tell our messages from theirs. */
function userOf(token) {
  try {
    return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub;
  } catch {
    return '?';
  }
}

function show(message, me) {
  if (shown.has(message.id)) return;
  shown.add(message.id);
  const item = document.createElement('li');
  item.className = message.from === me ? 'mine' : '';
  item.textContent = `${message.from}: ${typeof message.body === 'string' ? message.body : JSON.stringify(message.body)}`;
  const time = document.createElement('time');
  time.textContent = new Date(message.sentAt).toLocaleTimeString();
  item.append(time);
  $('log').append(item);
  item.scrollIntoView({ block: 'nearest' });
}

function note(text) {
  const item = document.createElement('li');
  item.className = 'note';
  item.textContent = text;
  $('log').append(item);
}

$('connect').addEventListener('submit', async (event) => {
  event.preventDefault();
  await client?.close();
  $('log').replaceChildren();
  shown.clear();
  const token = $('token').value.trim();
  const peer = $('peer').value.trim();
  const me = userOf(token);
  $('me').textContent = me;

  // A reload keeps what was typed but not yet answered: the outbox lives in localStorage.
  client = new PigeonholeClient({ url: $('url').value, token, outbox: localStorageOutbox(`pigeonhole.outbox.${me}`) });
  client.on('state', (state) => ($('state').textContent = state));
  client.on('error', (error) => note(`${error.code}: ${error.message}`));
  client.on('dropped', ({ count, reason }) => note(`${count} older messages were dropped (${reason})`));
  client.on('message', (message) => {
    if (message.from === peer || message.from === me) show(message, me);
  });
  await client.connect();

  // History comes newest first; the page shows the last 50 oldest first.
  const history = [];
  for await (const message of client.history({ type: 'private', target: peer })) {
    history.push(message);
    if (history.length === 50) break;
  }
  for (const message of history.reverse()) show(message, me);
  $('text').disabled = $('send').disabled = false;
  $('text').focus();
});

$('compose').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('text').value.trim();
  if (!text || !client) return;
  $('text').value = '';
  const peer = $('peer').value.trim();
  const me = userOf($('token').value.trim());
  try {
    // Resolves once stored; while offline it waits in the outbox and goes out on reconnect.
    const { id } = await client.send({ type: 'private', target: peer, body: text });
    show({ id, from: me, body: text, sentAt: new Date().toISOString() }, me);
  } catch (error) {
    note(`not sent (${error.code ?? error.message})`);
  }
});
