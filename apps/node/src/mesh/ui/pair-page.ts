import { STYLE } from './style';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page a phone opens from the QR code (spec 001 phase 9): pairs with code + PIN, keeps its own identity
 * and its token for this node in IndexedDB, then shows the node as a device it can send files to.
 */
export function pairPage(nodeName: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pair with ${esc(nodeName)}</title><style>${STYLE}</style></head>
<body>
<header><h1 id="title">Pair with ${esc(nodeName)}</h1></header>
<main>
<div class="alert" role="alert" id="error"></div>
<div class="note" role="status" id="note"></div>
<form id="pair-form" hidden>
  <label for="code">Pairing code</label><input id="code" autocomplete="off" autocapitalize="characters">
  <label for="pin">PIN</label><input id="pin" inputmode="numeric" autocomplete="one-time-code">
  <label for="name">Name this device</label><input id="name" value="My phone" maxlength="100">
  <div class="row"><button class="primary" id="pair" type="submit">Pair</button></div>
</form>
<section id="devices" hidden aria-label="Devices"></section>
</main>
<script>
const STATUS = { AVAILABLE: '● Available', OFFLINE: '○ Offline', NEEDS_REPAIR: '⚠ Needs re-pairing' };
const REPAIR = ['MESH_TOKEN_EXPIRED', 'MESH_TOKEN_UNKNOWN', 'MESH_TOKEN_MISSING'];
const $ = (id) => document.getElementById(id);
const show = (id, text) => { $(id).textContent = text || ''; };

// IndexedDB: 'self' holds this device's identity, 'peers' the token for each node it paired with.
function db() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('canopy-mesh', 1);
    open.onupgradeneeded = () => { open.result.createObjectStore('self'); open.result.createObjectStore('peers', { keyPath: 'node_id' }); };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}
async function tx(store, mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(store, mode); const req = fn(t.objectStore(store));
    t.oncomplete = () => resolve(req && req.result); t.onerror = () => reject(t.error);
  });
}
const getSelf = () => tx('self', 'readonly', (s) => s.get('identity'));
const putSelf = (v) => tx('self', 'readwrite', (s) => s.put(v, 'identity'));
const allPeers = () => tx('peers', 'readonly', (s) => s.getAll());
const putPeer = (v) => tx('peers', 'readwrite', (s) => s.put(v));

// A code from the link (the QR code): also when the link is opened in a tab already showing this page.
let fromLink = false;
const PAIR_TITLE = $('title').textContent;
function readLink() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('c')) { $('code').value = fragment.get('c'); fromLink = true; }
  // The code never stays in the address bar or the history.
  if (location.hash) history.replaceState(null, '', location.pathname);
}
readLink();
window.addEventListener('hashchange', () => { readLink(); if (fromLink) start(); });

let peer = null;
let status = 'OFFLINE';
let busy = false;

async function start() {
  const peers = await allPeers();
  peer = peers[0] || null;
  if (!peer || fromLink) { show('title', PAIR_TITLE); $('pair-form').hidden = false; $('devices').hidden = true; if (!$('code').value) $('code').focus(); else $('pin').focus(); return; }
  $('pair-form').hidden = true; $('devices').hidden = false;
  show('title', 'My Devices');
  await ping();
}

$('pair-form').onsubmit = async (e) => {
  e.preventDefault();
  $('pair').disabled = true; show('error', '');
  try {
    let me = await getSelf();
    const name = $('name').value.trim() || 'My phone';
    if (!me) { me = { node_id: crypto.randomUUID(), name }; }
    me.name = name; await putSelf(me);
    const res = await fetch('/api/pair/verify', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: $('code').value, pin: $('pin').value, node_identity: { node_id: me.node_id, name: me.name, kind: 'browser' } }) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) { console.error('Technical error:', res.status, body.code); throw new Error(body.message || 'Something went wrong'); }
    const p = body.peer_node;
    await putPeer({ node_id: p.node_id, name: p.name, token: p.access_token, expires_at: p.expires_at });
    $('pin').value = '';
    fromLink = false;
    show('note', 'Paired with ' + p.name + '.');
    await start();
  } catch (err) { show('error', err.message); $('pin').value = ''; }
  finally { $('pair').disabled = false; }
};

async function call(method, path, init) {
  const res = await fetch(path, { method, ...init, headers: { ...(init && init.headers), authorization: 'Bearer ' + peer.token } });
  const body = await res.json().catch(() => ({}));
  const renewed = res.headers.get('x-canopy-token-expires');
  if (renewed && renewed !== peer.expires_at) { peer.expires_at = renewed; await putPeer(peer); }
  return { res, body };
}

async function ping() {
  try {
    const { res, body } = await call('GET', '/health');
    status = res.ok ? 'AVAILABLE' : 'NEEDS_REPAIR';
    if (!res.ok) { console.error('Technical error:', res.status, body.code); show('error', body.message || 'Something went wrong'); }
  } catch (err) { console.error('Technical error:', err); status = 'OFFLINE'; }
  render();
}

function render() {
  if (busy) return;
  const list = $('devices'); list.textContent = '';
  const card = document.createElement('article'); card.className = 'card'; card.dataset.deviceId = peer.node_id; card.setAttribute('aria-label', peer.name);
  const h = document.createElement('h3'); h.textContent = peer.name;
  const s = document.createElement('div'); s.className = 'status ' + status; s.textContent = STATUS[status];
  const actions = document.createElement('div'); actions.className = 'actions';
  const label = document.createElement('label'); label.textContent = 'Send to ' + peer.name; label.htmlFor = 'file';
  const input = document.createElement('input'); input.type = 'file'; input.id = 'file';
  input.onchange = () => { if (input.files[0]) send(card, input.files[0]); };
  actions.append(label, input);
  const re = document.createElement('button'); re.textContent = 'Re-pair'; re.hidden = status !== 'NEEDS_REPAIR';
  re.onclick = () => { $('pair-form').hidden = false; show('error', ''); $('code').focus(); };
  actions.append(re);
  card.append(h, s, actions);
  const cards = document.createElement('div'); cards.className = 'cards'; cards.append(card);
  list.append(cards);
}

function send(card, file) {
  busy = true; show('error', ''); show('note', '');
  const bar = document.createElement('progress'); bar.max = 100; bar.value = 0; bar.setAttribute('aria-label', 'Sending to ' + peer.name);
  card.append(bar);
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/files');
  xhr.setRequestHeader('authorization', 'Bearer ' + peer.token);
  xhr.setRequestHeader('x-file-name', encodeURIComponent(file.name));
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100); };
  xhr.onload = () => {
    busy = false;
    let body = {}; try { body = JSON.parse(xhr.responseText); } catch {}
    if (xhr.status === 200) { bar.value = 100; show('note', 'Sent ' + file.name + ' to ' + peer.name + '.'); }
    else { console.error('Technical error:', xhr.status, body.code); show('error', body.message || 'Something went wrong'); status = xhr.status === 401 ? 'NEEDS_REPAIR' : status; render(); }
  };
  xhr.onerror = () => { busy = false; show('error', 'Device is offline'); status = 'OFFLINE'; render(); };
  xhr.send(file);
}

start();
setInterval(() => { if (peer && !busy && !$('devices').hidden) ping(); }, 20000);
</script>
</body></html>`;
}
