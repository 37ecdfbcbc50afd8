// Cimaise handheld scanner (issue 4, item 6). Plain modern JavaScript, no build, no dependency.
//
// Every scan is written to IndexedDB before anything else happens, with its own eventID
// (urn:uuid:…) and the device's time and offset; the screen answers at once from the local code
// list. Uploads go to POST /api/v1/epcis/capture in batches whenever the device is online; a scan
// leaves the queue only once the server's answer lists its eventID, so a lost answer just means a
// harmless resend (capture is idempotent by eventID).
//
// IndexedDB "cimaise-scanner":
//   codes  {c: code, k: kind, v: key (percent-encoded), g: generation of its kind}   the code list
//   queue  {id: eventID, user, seq, eventTime, offset, mode, step, context, where, item}
//   meta   {key: "manifest" | "session:<user>" | "anomalies:<user>" | "rejected:<user>", …}

const cfg = JSON.parse(document.getElementById("scanner-config").textContent);
const T = cfg.strings;
const DB_NAME = "cimaise-scanner";
const DAY_MS = 24 * 3600 * 1000;
const BATCH = 100;
const MAX_CODE = 200;
const KEEP_NOTES = 50;
const KEEP_RECENT = 15;
const WRITE_CHUNK = 1000;
const ITEM_KINDS = { place: ["work", "crate"], crate: ["work"] };

const $ = (id) => document.getElementById(id);
const fmt = (text, ...args) => text.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ""));
const root = $("scanner");

let db;
let session;
let pendingCount = 0;
let manifestReady = false;
let workerReady = false;
let uploading = false;
let syncing = false;
let authBlocked = false;
let failures = 0;
let uploadTimer = null;
let seq = 0;
let feedbackToken = 0;
let feedbackScan = null;
let uploadAgain = false;
let othersNotice = "";
const titles = new Map();

// --- IndexedDB --------------------------------------------------------------------------------

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const base = request.result;
      const codes = base.createObjectStore("codes", { keyPath: "c" });
      codes.createIndex("ref", ["k", "v"]);
      codes.createIndex("gen", ["k", "g"]);
      base.createObjectStore("queue", { keyPath: "id" }).createIndex("user", ["user", "seq"]);
      base.createObjectStore("meta", { keyPath: "key" });
    };
    request.onsuccess = () => {
      request.result.onversionchange = () => request.result.close();
      resolve(request.result);
    };
    request.onerror = () => reject(request.error);
  });
}

const settle = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

const committed = (tx) =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });

const read = (store, fn) => fn(db.transaction(store).objectStore(store));
const getMeta = (key) => read("meta", (s) => settle(s.get(key)));

async function putMeta(record) {
  const tx = db.transaction("meta", "readwrite");
  tx.objectStore("meta").put(record);
  await committed(tx);
}

const userRange = () => IDBKeyRange.bound([cfg.user, -Infinity], [cfg.user, Infinity]);

// --- identifiers and times --------------------------------------------------------------------

// As Python's quote(key, safe=""): encodeURIComponent leaves !'()* alone, quote does not.
const encodeKey = (key) =>
  encodeURIComponent(key).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

function decodeKey(key) {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

const uriOf = (kind, key) => `urn:cimaise:${kind}:${cfg.institution}:${key}`;

function newEventId() {
  if (crypto.randomUUID) return `urn:uuid:${crypto.randomUUID()}`;
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const pad = (n, width = 2) => String(n).padStart(width, "0");

function offsetOf(date) {
  const minutes = -date.getTimezoneOffset();
  const abs = Math.abs(minutes);
  return `${minutes >= 0 ? "+" : "-"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// The device's local time with its offset, e.g. 2026-11-05T14:03:22.120+01:00.
function localIso(date) {
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return `${day}T${time}.${pad(date.getMilliseconds(), 3)}${offsetOf(date)}`;
}

const clock = (iso) => (iso || "").slice(11, 19);

// --- resolving a scanned code -----------------------------------------------------------------

function fromRecord(code, record) {
  const label = decodeKey(record.v);
  return { kind: record.k, code, uri: uriOf(record.k, record.v), known: true, label };
}

// A QR label carries our URI itself: urn:cimaise:{kind}:{institution}:{key}. A well-formed one
// that is not in the list (or names another institution's object) is kept as it is.
async function resolveUri(code) {
  const [, , kind, institution, key, ...rest] = code.split(":");
  if (!["work", "crate", "place"].includes(kind) || !institution || !key || rest.length) return null;
  if (institution === cfg.institution) {
    const record = await read("codes", (s) => settle(s.index("ref").get([kind, key])));
    if (record) return fromRecord(record.c, record);
  }
  return { kind, code, uri: code, known: false, label: decodeKey(key) };
}

async function resolveCode(code) {
  const named = code.startsWith("urn:cimaise:") ? await resolveUri(code) : null;
  if (named) return named;
  const record = await read("codes", (s) => settle(s.get(code)));
  if (record) return fromRecord(code, record);
  // A typed inventory number rather than a barcode.
  const typed = await read("codes", (s) => settle(s.index("ref").get(["work", encodeKey(code)])));
  if (typed) return fromRecord(code, typed);
  return { kind: null, code, uri: null, known: false, label: code, raw: true };
}

// An unknown code in the item slot is sent as a work named by the raw code, so that the server
// stores the event and raises an unknown_identifier anomaly for the registrar.
function asUnknownItem(found) {
  if (found.uri && ["work", "crate"].includes(found.kind)) return found;
  return { ...found, kind: "work", uri: uriOf("work", encodeKey(found.code)), raw: true };
}

// --- feedback: text, colour, sound ------------------------------------------------------------

let audio;

function beep(tone) {
  const plans = {
    ok: [[880, 0, 0.09]],
    info: [[660, 0, 0.07], [990, 0.09, 0.07]],
    warn: [[520, 0, 0.12], [520, 0.18, 0.12]],
    bad: [[200, 0, 0.4]],
  };
  try {
    audio ??= new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
    const t0 = audio.currentTime + 0.01;
    for (const [frequency, at, length] of plans[tone] || []) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = tone === "bad" ? "square" : "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, t0 + at);
      gain.gain.exponentialRampToValueAtTime(0.25, t0 + at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + length);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + at);
      osc.stop(t0 + at + length + 0.02);
    }
  } catch {
    // No sound on this device: the colour and the text still say it.
  }
  if (tone === "bad" || tone === "warn") navigator.vibrate?.(tone === "bad" ? [80, 60, 80] : 60);
}

function feedback(tone, main, detail = "") {
  feedbackToken += 1;
  feedbackScan = null;
  const box = $("scan-feedback");
  box.dataset.tone = tone;
  $("scan-feedback-main").textContent = main;
  $("scan-feedback-detail").textContent = detail;
  beep(tone);
  return feedbackToken;
}

function alertBox(text, link = null) {
  const box = $("scan-alert");
  box.textContent = text || "";
  if (link) {
    const a = document.createElement("a");
    a.href = link.href;
    a.textContent = link.text;
    box.append(" ", a);
  }
  box.hidden = !text;
}

// --- the scanning session: mode, step, current place or crate ---------------------------------

function blankSession() {
  return { key: `session:${cfg.user}`, mode: "place", step: "storing", context: null, where: null, seen: [] };
}

function describeContext() {
  const lines = [];
  if (session.where) lines.push(fmt(T.packingAt, session.where.label));
  if (session.context) {
    lines.push(fmt(session.mode === "place" ? T.placeSet : T.crateSet, session.context.label));
  } else {
    lines.push(session.mode === "place" ? T.needPlace : T.needCrate);
  }
  $("scan-context").textContent = lines.join(" · ");
  $("scan-step-field").hidden = session.mode !== "place";
}

function renderOptions() {
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.checked = radio.value === session.mode;
  $("scan-step").value = session.step;
  describeContext();
}

async function resetSession(changes) {
  session = { ...session, context: null, where: null, seen: [], ...changes };
  await putMeta(session);
  describeContext();
}

async function setContext(found) {
  const same = session.context && session.context.uri === found.uri;
  session = { ...session, context: found, seen: same ? session.seen : [] };
  await putMeta(session);
  describeContext();
  feedback("info", fmt(session.mode === "place" ? T.placeSet : T.crateSet, found.label));
}

async function setWhere(found) {
  session = { ...session, where: found };
  await putMeta(session);
  describeContext();
  feedback("info", fmt(T.packingAt, found.label));
}

function scanText(record) {
  const item = record.item.label;
  if (record.mode === "crate") return fmt(T.packed, item, record.context.label);
  return fmt(record.step === "cycle_counting" ? T.counted : T.stored, item, record.context.label);
}

async function record(item, now) {
  if (session.seen.includes(item.uri)) {
    feedback("info", fmt(T.already, item.label));
    return;
  }
  seq = Math.max(seq + 1, now.getTime() * 1000);
  const scan = {
    id: newEventId(), user: cfg.user, seq, eventTime: localIso(now), offset: offsetOf(now),
    mode: session.mode, step: session.step, context: session.context, where: session.where, item,
  };
  session = { ...session, seen: [...session.seen, item.uri] };
  const tx = db.transaction(["queue", "meta"], "readwrite");
  tx.objectStore("queue").add(scan);
  tx.objectStore("meta").put(session);
  await committed(tx);
  pendingCount += 1;
  renderPending();
  addRecent(scan);
  const detail = item.known ? "" : fmt(T.unknownItem, item.code);
  const token = feedback(item.known ? "ok" : "warn", scanText(scan), detail);
  feedbackScan = scan.id;
  if (item.known && item.kind === "work") showTitle(item.code, token);
  if (!failures) scheduleUpload(0); // after a failure the backoff timer decides
}

// Without a place or a crate to put it in, a scan means nothing: refused, not recorded. An
// unknown code there is refused too (guessing would misplace every scan after it); a place or
// crate labelled since the list was loaded is found once the list is refreshed, online.
function refuseWithout(need, found, unknown) {
  if (!found.known) syncManifest();
  feedback("bad", need, found.known ? found.label : fmt(unknown, found.code));
}

async function scanAtPlace(found, at) {
  if (found.known && found.kind === "place") return setContext(found);
  if (!session.context) return refuseWithout(T.needPlace, found, T.unknownPlace);
  if (found.known && ITEM_KINDS.place.includes(found.kind)) return record(found, at);
  return record(asUnknownItem(found), at);
}

async function scanIntoCrate(found, at) {
  if (found.known && found.kind === "crate") return setContext(found);
  if (found.known && found.kind === "place") return setWhere(found);
  if (!session.context) return refuseWithout(T.needCrate, found, T.unknownCrate);
  if (found.known) return record(found, at);
  return record(asUnknownItem(found), at);
}

async function handleScan(raw, at) {
  const code = raw.trim();
  if (!code) return;
  if (code.length > MAX_CODE) {
    feedback("bad", T.tooLong);
    return;
  }
  const found = await resolveCode(code);
  await (session.mode === "place" ? scanAtPlace(found, at) : scanIntoCrate(found, at));
}

// Scans (and changes of mode) are handled one after the other, in the order read, however fast
// they come.
let chain = Promise.resolve();

function serially(task) {
  chain = chain.then(task).catch((error) => feedback("bad", String(error?.message || error)));
  return chain;
}

// The event's time is when the label was read, not when its turn came.
const onScan = (raw) => {
  const at = new Date();
  return serially(() => handleScan(raw, at));
};

// The title is not in the offline list (it would quadruple its size): fetched if online, never
// waited for.
async function showTitle(code, token) {
  if (!navigator.onLine) return;
  try {
    if (!titles.has(code)) {
      const answer = await getJson(`${cfg.api.lookup}?${new URLSearchParams({ code })}`);
      titles.set(code, answer.found[0]?.label || "");
    }
    if (token === feedbackToken && titles.get(code)) $("scan-feedback-detail").textContent = titles.get(code);
  } catch {
    // Only a nicety.
  }
}

// --- pending counter, last scans, server notes ------------------------------------------------

function renderPending() {
  $("scan-pending").textContent = String(pendingCount);
  root.dataset.pending = String(pendingCount);
}

async function refreshPending() {
  pendingCount = await read("queue", (s) => settle(s.index("user").count(userRange())));
  renderPending();
}

// Scans made offline by someone else on this device are sent only under their own session.
async function noticeOthers() {
  const others = (await read("queue", (s) => settle(s.getAll()))).filter((scan) => scan.user !== cfg.user);
  const names = [...new Set(others.map((scan) => scan.user))].join(", ");
  othersNotice = others.length ? fmt(T.othersPending, others.length, names) : "";
  alertBox(othersNotice);
}

function addRecent(scan, state = "pending") {
  const list = $("scan-recent");
  const item = document.createElement("li");
  item.dataset.eventId = scan.id;
  item.dataset.state = state;
  const what = document.createElement("span");
  what.textContent = `${clock(scan.eventTime)} ${scanText(scan)}`;
  const badge = document.createElement("span");
  badge.className = "scan-state";
  badge.textContent = state === "sent" ? T.sent : T.pending;
  item.append(what, badge);
  list.prepend(item);
  while (list.children.length > KEEP_RECENT) list.lastElementChild.remove();
}

function markSent(ids) {
  for (const item of $("scan-recent").children) {
    if (!ids.has(item.dataset.eventId)) continue;
    item.dataset.state = "sent";
    item.querySelector(".scan-state").textContent = T.sent;
  }
}

async function addNotes(kind, notes) {
  if (!notes.length) return;
  const key = `${kind}:${cfg.user}`;
  const stored = (await getMeta(key)) || { key, notes: [] };
  const seen = new Set(stored.notes.map((n) => n.id));
  const fresh = notes.filter((n) => !seen.has(n.id));
  await putMeta({ key, notes: [...fresh, ...stored.notes].slice(0, KEEP_NOTES) });
  await renderNotes(kind);
}

async function renderNotes(kind) {
  const stored = await getMeta(`${kind}:${cfg.user}`);
  const notes = stored?.notes || [];
  const list = $(`scan-${kind}`);
  list.replaceChildren(
    ...notes.map((note) => {
      const item = document.createElement("li");
      item.dataset.eventId = note.eventID;
      item.dataset.kind = note.kind || "";
      item.textContent = note.text;
      return item;
    }),
  );
  $(`scan-${kind}-card`).hidden = notes.length === 0;
}

// --- uploading --------------------------------------------------------------------------------

function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith(`${cfg.csrfCookie}=`));
  return cookie ? decodeURIComponent(cookie.split("=")[1]) : cfg.csrfToken;
}

async function request(url, options = {}, timeout = 30000) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  try {
    return await fetch(url, { credentials: "same-origin", signal: abort.signal, ...options });
  } finally {
    clearTimeout(timer);
  }
}

class HttpFailure extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function getJson(url) {
  const response = await request(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new HttpFailure(response.status, body);
  return body;
}

function toEvent(scan) {
  const base = {
    eventID: scan.id,
    eventTime: scan.eventTime,
    eventTimeZoneOffset: scan.offset,
    "cimaise:barcode": scan.item.code,
  };
  if (scan.mode === "place") {
    const here = { id: scan.context.uri };
    return {
      type: "ObjectEvent", action: "OBSERVE", ...base, epcList: [scan.item.uri],
      bizStep: scan.step, bizLocation: here, readPoint: here,
    };
  }
  const event = {
    type: "AggregationEvent", action: "ADD", ...base, parentID: scan.context.uri,
    childEPCs: [scan.item.uri], bizStep: "packing",
  };
  if (scan.where) event.bizLocation = event.readPoint = { id: scan.where.uri };
  return event;
}

// Codes that were not in the offline list may be known to the server (a label printed after the
// list was loaded): ask once, before the events leave, and name the real object if so.
async function resolveLate(batch) {
  const open = batch.filter((scan) => scan.item.raw && !scan.item.known && !scan.item.checked);
  const codes = [...new Set(open.map((scan) => scan.item.code))];
  if (!codes.length) return;
  const query = new URLSearchParams(codes.map((code) => ["code", code]));
  const answer = await getJson(`${cfg.api.lookup}?${query}`);
  const found = new Map(answer.found.map((r) => [r.code, r]));
  const tx = db.transaction("queue", "readwrite");
  for (const scan of open) {
    const hit = found.get(scan.item.code);
    if (hit && ITEM_KINDS[scan.mode].includes(hit.kind)) {
      scan.item = { ...scan.item, kind: hit.kind, uri: hit.uri, label: hit.key, known: true };
      noteResolved(scan, hit);
    } else {
      scan.item = { ...scan.item, checked: true };
    }
    tx.objectStore("queue").put(scan);
  }
  await committed(tx);
}

function noteResolved(scan, hit) {
  for (const item of $("scan-recent").children) {
    if (item.dataset.eventId !== scan.id) continue;
    item.firstElementChild.textContent = `${clock(scan.eventTime)} ${scanText(scan)}`;
  }
  if (feedbackScan === scan.id) $("scan-feedback-detail").textContent = fmt(T.resolvedLater, scan.item.code, hit.label);
}

function captureDocument(batch) {
  return {
    "@context": cfg.epcisContext,
    type: "EPCISDocument",
    schemaVersion: "2.0",
    creationDate: new Date().toISOString(),
    epcisBody: { eventList: batch.map(toEvent) },
  };
}

async function acknowledge(answer, batch) {
  const ids = new Set(answer.eventIDs || []);
  const tx = db.transaction("queue", "readwrite");
  for (const scan of batch) if (ids.has(scan.id)) tx.objectStore("queue").delete(scan.id);
  await committed(tx);
  markSent(ids);
  const byId = new Map(batch.map((scan) => [scan.id, scan]));
  const notes = (answer.anomalies || []).map((a) => {
    const name = T[`anomaly_${a.kind}`] || `${T.anomaly_other} (${a.kind})`;
    const at = clock(byId.get(a.eventID)?.eventTime);
    return { id: a.id, kind: a.kind, eventID: a.eventID, text: fmt(T.anomalyText, name, a.uri, at) };
  });
  await addNotes("anomalies", notes);
}

async function refuse(scan, message) {
  const tx = db.transaction("queue", "readwrite");
  tx.objectStore("queue").delete(scan.id);
  await committed(tx);
  const text = `${clock(scan.eventTime)} ${scanText(scan)}: ${message}`;
  await addNotes("rejected", [{ id: scan.id, eventID: scan.id, text }]);
  feedback("bad", fmt(T.rejected, scanText(scan)), message);
}

// "ok": on with the next batch; "auth": wait for a new sign-in; a throw: try again later (backoff).
async function send(batch) {
  const response = await request(cfg.api.capture, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(captureDocument(batch)),
  });
  const body = await response.json().catch(() => null);
  if (response.ok) {
    await acknowledge(body, batch);
    return "ok";
  }
  if (response.status === 401 || response.status === 403) return "auth";
  const index = body?.error?.details?.index;
  if (response.status === 400 && body?.error?.code === "invalid_event" && Number.isInteger(index) && batch[index]) {
    await refuse(batch[index], body.error.message); // one bad event must not hold back the others
    return "ok";
  }
  throw new HttpFailure(response.status, body);
}

function scheduleUpload(delay) {
  clearTimeout(uploadTimer);
  uploadTimer = setTimeout(uploadAll, delay);
}

async function uploadBatches() {
  for (;;) {
    const batch = await read("queue", (s) => settle(s.index("user").getAll(userRange(), BATCH)));
    if (!batch.length) return "ok";
    await resolveLate(batch);
    const outcome = await send(batch);
    if (outcome !== "ok") return outcome;
    await refreshPending();
  }
}

function blockUntilSignIn() {
  authBlocked = true;
  alertBox(T.signIn, { href: cfg.login, text: T.signInLink });
}

async function uploadAll() {
  if (uploading) {
    uploadAgain = true; // a scan arrived meanwhile: go round once more when this pass ends
    return;
  }
  if (authBlocked || !navigator.onLine) return;
  uploading = true;
  uploadAgain = false;
  renderNetwork();
  try {
    if ((await uploadBatches()) === "auth") blockUntilSignIn();
    failures = 0;
  } catch (error) {
    if (error?.status === 401 || error?.status === 403) {
      blockUntilSignIn();
    } else {
      failures += 1; // 1 s, 2 s, 4 s… up to a minute, with some jitter
      uploadAgain = false;
      scheduleUpload(Math.min(60000, 1000 * 2 ** (failures - 1)) * (0.8 + Math.random() * 0.4));
    }
    root.dataset.lastError = String(error?.message || error);
  } finally {
    uploading = false;
    await refreshPending();
    renderNetwork();
    if (uploadAgain) scheduleUpload(0);
  }
}

// --- the offline code list ("manifest") -------------------------------------------------------
// meta "manifest": {institution, order: [kinds], kinds: {kind: {version, gen, complete, syncedAt,
// loading?, after?}}, total, syncedAt}. Each kind is fetched in pages into a new generation, the
// previous one answering until the new one is complete; an interrupted fetch resumes at its page.

const listComplete = (meta) => Boolean(meta?.order?.every((kind) => meta.kinds?.[kind]?.complete));

function renderManifest(state, meta, progress = "") {
  root.dataset.manifest = state;
  const when = meta?.syncedAt ? new Date(meta.syncedAt).toLocaleString() : "";
  const text = {
    ready: fmt(T.listReady, meta?.total ?? 0, when),
    loading: fmt(T.listLoading, progress),
    missing: T.listMissing,
    failed: T.listFailed,
  }[state];
  $("scan-list").textContent = text;
  manifestReady = listComplete(meta);
  renderReadiness();
}

// Written in small transactions, so that a scan's lookup never queues behind a long write.
async function storePage(kind, items, manifest) {
  const gen = manifest.kinds[kind].gen;
  for (let start = 0; start < items.length || start === 0; start += WRITE_CHUNK) {
    const tx = db.transaction(["codes", "meta"], "readwrite");
    const codes = tx.objectStore("codes");
    for (const [c, v] of items.slice(start, start + WRITE_CHUNK)) codes.put({ c, k: kind, v, g: gen });
    if (start + WRITE_CHUNK >= items.length) tx.objectStore("meta").put(manifest); // the page is in
    await committed(tx);
  }
}

async function dropStale(kind, gen) {
  const tx = db.transaction("codes", "readwrite");
  const stale = IDBKeyRange.bound([kind, -Infinity], [kind, gen], false, true);
  const cursors = tx.objectStore("codes").index("gen").openCursor(stale);
  cursors.onsuccess = () => {
    const cursor = cursors.result;
    if (!cursor) return;
    cursor.delete();
    cursor.continue();
  };
  await committed(tx);
}

async function syncKind(head, manifest, kind, force, progress) {
  const version = head.versions[kind];
  const was = manifest.kinds[kind] || { gen: 0 };
  const fresh = was.complete && was.version === version && Date.now() - was.syncedAt < DAY_MS;
  if (fresh && !force) return;
  const resume = was.loading === version;
  let state = { ...was, loading: version, gen: resume ? was.gen : was.gen + 1, after: resume ? was.after : 0 };
  while (state.after !== null) {
    const page = await getJson(`${cfg.api.manifest}/${kind}?after=${state.after}&limit=${head.pageSize}`);
    state = { ...state, after: page.next };
    manifest.kinds[kind] = state;
    await storePage(kind, page.items, manifest);
    progress.loaded += page.items.length;
    renderManifest("loading", manifest, String(progress.loaded));
  }
  await dropStale(kind, state.gen);
  manifest.kinds[kind] = { version, gen: state.gen, complete: true, syncedAt: Date.now() };
  await putMeta(manifest);
}

// Asks which kinds changed (a new shelf does not send 250,000 works down again), fetches those.
async function syncManifest(force = false) {
  if (syncing || !navigator.onLine) return;
  syncing = true;
  let manifest = await getMeta("manifest");
  try {
    const head = await getJson(cfg.api.manifest);
    if (manifest?.institution !== head.institution) {
      const tx = db.transaction("codes", "readwrite");
      tx.objectStore("codes").clear();
      await committed(tx);
      manifest = { key: "manifest", institution: head.institution, kinds: {} };
    }
    manifest.order = head.kinds;
    const progress = { loaded: 0 };
    for (const kind of head.kinds) await syncKind(head, manifest, kind, force, progress);
    manifest = { ...manifest, syncedAt: Date.now(), total: await read("codes", (s) => settle(s.count())) };
    await putMeta(manifest);
    renderManifest("ready", manifest);
  } catch (error) {
    renderManifest(listComplete(manifest) ? "ready" : "failed", manifest);
    if (error?.status === 401 || error?.status === 403) blockUntilSignIn();
  } finally {
    syncing = false;
  }
}

// --- network state, service worker, readiness -------------------------------------------------

function renderNetwork() {
  const online = navigator.onLine;
  root.dataset.online = String(online);
  $("scan-net").textContent = !online ? T.offline : uploading ? T.sending : T.online;
}

function renderReadiness() {
  const ready = manifestReady && workerReady && Boolean(navigator.serviceWorker?.controller);
  root.dataset.offlineReady = String(ready);
  $("scan-ready").textContent = ready ? T.readyOffline : T.notReadyOffline;
}

// Ready offline means: a worker controls the page and this very page is in its cache.
let cacheAttempts = 0;

async function checkCached() {
  workerReady = Boolean(await caches.match(cfg.page).catch(() => undefined));
  renderReadiness();
  cacheAttempts += 1;
  if (!workerReady && navigator.onLine && cacheAttempts < 5) setTimeout(askToCache, 5000 * cacheAttempts);
}

async function askToCache() {
  const registration = await navigator.serviceWorker.ready;
  const assets = [...document.querySelectorAll("script[src], link[rel=stylesheet][href]")];
  const urls = assets.map((el) => el.src || el.href);
  (navigator.serviceWorker.controller || registration.active)?.postMessage({ type: "cache", urls });
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "cached") checkCached();
  });
  try {
    await navigator.serviceWorker.register(cfg.serviceWorker, { scope: cfg.page });
    await askToCache();
  } catch {
    workerReady = false;
    renderReadiness();
  }
}

// --- camera (where the browser has BarcodeDetector) -------------------------------------------

let camera = null;

async function startCamera() {
  const supported = await BarcodeDetector.getSupportedFormats();
  const formats = ["code_128", "qr_code", "code_39", "ean_13", "data_matrix"].filter((f) => supported.includes(f));
  const detector = new BarcodeDetector(formats.length ? { formats } : undefined);
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  const video = $("scan-video");
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  camera = { stream, last: "", lastAt: 0 };
  $("scan-camera").textContent = T.cameraStop;
  const tick = async () => {
    if (!camera || camera.stream !== stream) return;
    try {
      const [hit] = await detector.detect(video);
      const now = Date.now();
      if (hit?.rawValue && (hit.rawValue !== camera.last || now - camera.lastAt > 2500)) {
        camera.last = hit.rawValue;
        camera.lastAt = now;
        onScan(hit.rawValue);
      } else if (hit?.rawValue) {
        camera.lastAt = now; // the same label still in view: not a new scan
      }
    } catch {
      // A frame the detector could not read.
    }
    setTimeout(tick, 150);
  };
  tick();
}

function stopCamera() {
  camera?.stream.getTracks().forEach((track) => track.stop());
  camera = null;
  $("scan-video").hidden = true;
  $("scan-camera").textContent = T.cameraStart;
}

// --- wiring -----------------------------------------------------------------------------------

function bindControls() {
  const input = $("scan-input");
  $("scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value;
    input.value = "";
    input.focus();
    onScan(value);
  });
  // A keyboard-wedge scanner types into whatever has the focus: bring it back to the field.
  document.addEventListener("keydown", (event) => {
    const active = document.activeElement;
    if (!event.ctrlKey && !event.altKey && (!active || active === document.body)) input.focus();
  });
  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => serially(() => resetSession({ mode: radio.value })).then(() => input.focus()));
  }
  $("scan-step").addEventListener("change", (event) => {
    const step = event.target.value;
    serially(async () => {
      session = { ...session, step, seen: [] };
      await putMeta(session);
      describeContext();
    });
  });
  $("scan-new-round").addEventListener("click", () => serially(() => resetSession({})).then(() => input.focus()));
  bindKeyboardToggle(input);
  if ("BarcodeDetector" in window && navigator.mediaDevices?.getUserMedia) {
    const button = $("scan-camera");
    button.hidden = false;
    button.addEventListener("click", () =>
      camera ? stopCamera() : startCamera().catch(() => feedback("bad", T.cameraFailed)),
    );
    window.addEventListener("pagehide", stopCamera);
  }
}

function bindKeyboardToggle(input) {
  const button = $("scan-keyboard");
  const apply = (hidden) => {
    input.inputMode = hidden ? "none" : "text";
    button.setAttribute("aria-pressed", String(hidden));
    localStorage.setItem("cimaise-scanner-keyboard", hidden ? "hidden" : "shown");
  };
  apply(localStorage.getItem("cimaise-scanner-keyboard") === "hidden");
  button.addEventListener("click", () => {
    apply(button.getAttribute("aria-pressed") !== "true");
    input.focus();
  });
}

function bindNetwork() {
  // Back online, or back to this tab (perhaps after signing in again in another one): try again.
  const retry = () => {
    if (authBlocked) alertBox(othersNotice);
    authBlocked = false;
    failures = 0;
    renderNetwork();
    syncManifest();
    scheduleUpload(0);
  };
  window.addEventListener("online", retry);
  window.addEventListener("offline", () => {
    renderNetwork();
    renderReadiness();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && navigator.onLine) retry();
  });
  navigator.serviceWorker?.addEventListener("controllerchange", renderReadiness);
  // navigator.onLine can be wrong (a captive Wi-Fi): try again now and then while scans wait.
  setInterval(() => {
    if (pendingCount > 0 && !uploading) scheduleUpload(0);
  }, 30000);
}

async function showStored() {
  const waiting = await read("queue", (s) => settle(s.index("user").getAll(userRange())));
  for (const scan of waiting.slice(-KEEP_RECENT)) addRecent(scan);
  await renderNotes("anomalies");
  await renderNotes("rejected");
  await noticeOthers();
}

async function main() {
  db = await openDb();
  navigator.storage?.persist?.(); // ask the browser not to evict the queue under storage pressure
  session = { ...blankSession(), ...((await getMeta(`session:${cfg.user}`)) || {}) };
  renderOptions();
  const manifest = await getMeta("manifest");
  renderManifest(listComplete(manifest) ? "ready" : "missing", manifest);
  await refreshPending();
  await showStored();
  bindControls();
  bindNetwork();
  renderNetwork();
  const input = $("scan-input");
  input.disabled = false;
  // On a handheld the scanner is the whole job: bring it to the top, the menu is a swipe away.
  if (window.matchMedia("(max-width: 48rem)").matches) root.scrollIntoView({ block: "start" });
  input.focus({ preventScroll: true });
  root.dataset.ready = "true";
  registerWorker();
  syncManifest().then(() => scheduleUpload(0));
  scheduleUpload(0);
}

main().catch((error) => {
  root.dataset.ready = "error";
  feedback("bad", String(error?.message || error));
});
