import { STYLE } from './style';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** My Devices (spec 001 phase 11): the owner's page on 127.0.0.1. Talks GraphQL and the owner API. */
export function ownerPage(nodeName: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>My Devices — ${esc(nodeName)}</title><style>${STYLE}</style></head>
<body>
<header><h1>My Devices</h1><span class="me">This device: <strong id="me">${esc(nodeName)}</strong></span>
<button id="join">Join another device</button><button class="primary" id="add">Add a device</button></header>
<main>
<div class="alert" role="alert" id="error"></div>
<div class="note" role="status" id="note"></div>
<section id="list" aria-label="Devices"></section>
</main>

<dialog id="add-dialog" aria-labelledby="add-title">
  <h2 id="add-title">Add a device</h2>
  <p class="muted">On the other device, scan this code, or open the link, then enter the PIN.</p>
  <img class="qr" id="qr" alt="Pairing QR code">
  <div class="muted" style="text-align:center">PIN</div>
  <div class="pin" id="pin" aria-label="PIN"></div>
  <p class="muted" style="text-align:center">Or type the code <span class="code" id="code"></span></p>
  <p class="link">Link: <span id="link"></span></p>
  <p class="muted" id="countdown" aria-live="polite"></p>
  <div class="row"><button id="add-close">Close</button></div>
</dialog>

<dialog id="join-dialog" aria-labelledby="join-title">
  <h2 id="join-title">Join another device</h2>
  <p class="muted">Paste the link shown on the other device and enter its PIN.</p>
  <label for="join-link">Link</label><input id="join-link" autocomplete="off">
  <label for="join-pin">PIN</label><input id="join-pin" inputmode="numeric" autocomplete="one-time-code">
  <div class="alert" role="alert" id="join-error"></div>
  <div class="row"><button id="join-cancel">Cancel</button><button class="primary" id="join-go">Pair</button></div>
</dialog>

<script>
const STATUS = { AVAILABLE: '● Available', OFFLINE: '○ Offline', NEEDS_REPAIR: '⚠ Needs re-pairing' };
const $ = (id) => document.getElementById(id);
const show = (id, text) => { $(id).textContent = text || ''; };

async function gql(query, variables) {
  const res = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors && body.errors.length) { console.error('Technical error:', body.errors); throw new Error(body.errors[0].message || 'Something went wrong'); }
  return body.data;
}
async function api(method, path, body) {
  const res = await fetch(path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) { console.error('Technical error:', res.status, json); throw new Error(json.message || 'Something went wrong'); }
  return json;
}

const DEVICES = 'query { devices { id name kind status capabilities needsRepair canReceiveFiles } }';
let devices = [];
const sending = new Set();

function render() {
  const list = $('list');
  if (sending.size > 0) return;
  list.textContent = '';
  if (devices.length === 0) {
    list.innerHTML = '<div class="empty"><strong>Pair your first device to get started</strong>Choose “Add a device” and scan the code with your phone or another computer.</div>';
    return;
  }
  if (!devices.some((d) => d.status === 'AVAILABLE')) {
    const e = document.createElement('div');
    e.className = 'empty'; e.style.marginBottom = '16px';
    e.innerHTML = '<strong>No devices available right now</strong>They show up here as soon as they are back on your network.';
    list.append(e);
  }
  const cards = document.createElement('div');
  cards.className = 'cards';
  for (const d of devices) {
    const card = document.createElement('article');
    card.className = 'card'; card.dataset.deviceId = d.id; card.setAttribute('aria-label', d.name);
    const h = document.createElement('h3'); h.textContent = d.name;
    const s = document.createElement('div'); s.className = 'status ' + d.status; s.textContent = STATUS[d.status];
    const caps = document.createElement('ul'); caps.className = 'caps';
    for (const c of d.capabilities) { const li = document.createElement('li'); li.textContent = c; caps.append(li); }
    const actions = document.createElement('div'); actions.className = 'actions';
    if (d.canReceiveFiles && d.status === 'AVAILABLE') {
      const b = document.createElement('button'); b.textContent = 'Send to ' + d.name;
      b.onclick = () => pickAndSend(d, card);
      actions.append(b);
    }
    if (d.needsRepair) {
      const b = document.createElement('button'); b.textContent = 'Re-pair';
      b.onclick = () => openPairing(d.id);
      actions.append(b);
    }
    const r = document.createElement('button'); r.className = 'danger'; r.textContent = 'Remove device';
    r.onclick = async () => {
      if (!confirm('Remove ' + d.name + '? It will need to be paired again to work with this device.')) return;
      try { await gql('mutation ($id: ID!) { removeDevice(id: $id) }', { id: d.id }); show('note', d.name + ' was removed.'); await refresh(); }
      catch (err) { show('error', err.message); }
    };
    actions.append(r);
    card.append(h, s, caps, actions);
    cards.append(card);
  }
  list.append(cards);
}

async function refresh() {
  try { devices = (await gql(DEVICES)).devices; show('error', ''); render(); }
  catch (err) { show('error', err.message); }
}

function pickAndSend(d, card) {
  const input = document.createElement('input'); input.type = 'file';
  input.onchange = () => { if (input.files[0]) send(d, card, input.files[0]); };
  input.click();
}

function send(d, card, file) {
  sending.add(d.id);
  const bar = document.createElement('progress'); bar.max = 100; bar.value = 0; bar.setAttribute('aria-label', 'Sending to ' + d.name);
  const text = document.createElement('div'); text.className = 'muted'; text.textContent = 'Sending ' + file.name + '…';
  card.append(bar, text);
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/devices/' + encodeURIComponent(d.id) + '/send');
  xhr.setRequestHeader('x-file-name', encodeURIComponent(file.name));
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100); };
  xhr.onload = () => {
    sending.delete(d.id);
    let body = {}; try { body = JSON.parse(xhr.responseText); } catch {}
    if (xhr.status === 200) { bar.value = 100; show('note', 'Sent ' + file.name + ' to ' + d.name + '.'); show('error', ''); }
    else { console.error('Technical error:', xhr.status, body); show('error', body.message || 'Something went wrong'); }
    refresh();
  };
  xhr.onerror = () => { sending.delete(d.id); show('error', 'Device is offline'); refresh(); };
  xhr.send(file);
}

let countdown;
async function openPairing(repairId) {
  try {
    const q = repairId
      ? await gql('mutation ($id: ID!) { repairDevice(id: $id) { code pin url qrCodeUrl expiresAt } }', { id: repairId })
      : await gql('mutation { addDevice { code pin url qrCodeUrl expiresAt } }');
    const o = repairId ? q.repairDevice : q.addDevice;
    $('qr').src = o.qrCodeUrl; show('pin', o.pin); show('code', o.code); show('link', o.url);
    $('add-dialog').showModal();
    clearInterval(countdown);
    const tick = () => {
      const left = Math.max(0, Math.round((Date.parse(o.expiresAt) - Date.now()) / 1000));
      show('countdown', left > 0 ? 'This code works for ' + Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0') + ' more.' : 'This code has expired. Close and start again.');
    };
    tick(); countdown = setInterval(tick, 1000);
  } catch (err) { show('error', err.message); }
}
$('add').onclick = () => openPairing(null);
$('add-close').onclick = () => { clearInterval(countdown); $('add-dialog').close(); refresh(); };
$('join').onclick = () => { show('join-error', ''); $('join-dialog').showModal(); $('join-link').focus(); };
$('join-cancel').onclick = () => $('join-dialog').close();
$('join-go').onclick = async () => {
  $('join-go').disabled = true;
  try {
    const d = await api('POST', '/api/join', { link: $('join-link').value, pin: $('join-pin').value });
    $('join-dialog').close(); $('join-link').value = ''; $('join-pin').value = '';
    show('note', 'Paired with ' + d.name + '.'); await refresh();
  } catch (err) { show('join-error', err.message); $('join-pin').value = ''; }
  finally { $('join-go').disabled = false; }
};
refresh();
setInterval(refresh, 3000);
</script>
</body></html>`;
}
