// Delta sync: bring the device up to date from the sync files where an index
// is found beside the worker's scope (the origin, an export, a mirror), else
// from /api/sync a page at a time; either way resuming from the stored
// cursor (one format for both), so a dropped connection loses nothing.
//
// Where the device holds a verified list of mirrors (the index's `mirrors`, or
// /mirrors.json), the origin is tried first, then each mirror, the last one
// that worked first: a source that does not answer within
// SETTINGS.networkTimeoutMs, fails, or serves an index or files that do not
// verify (a forged one, or a validly signed one older than the newest the
// device verified: a copy frozen in the past) is passed over. Every source is
// verified alike; which one served the last sync is kept for the pages.
// The sources that only ran out of time are then tried once more, each given
// SETTINGS.syncTimeoutMs: a slow link is not a blocked one.
//
// No sync request waits longer than SETTINGS.syncTimeoutMs for an answer, nor
// for the next bytes of one: a connection that stalls (a censor's throttle, a
// dead link that never closes) ends the attempt instead of holding every later
// sync behind it.
//
// A device that pinned a root (SETTINGS.root, on its first run) verifies
// everything before storing it, whatever brought it (BulletinVerify): the
// index's keys, then the index, then every record; each refusal is counted
// and reported to the pages with its reason code, the rest is stored. A
// device of a site without keys pins nothing and takes /api/sync unsigned.
"use strict";
/* global notifyClients, markNetwork, keepShells, fromSigned, recordAddress */
/* exported runningSync, syncNow, pinRoot, exclusively */

const MAX_SYNC_PAGES = 200; // bound on one sync run: 200 pages of changes

let runningSync = null;

// Syncs and bundle imports (imports.js) each read the verifier's state, change
// it and keep it: one at a time, or one would keep a state the other outdated.
let verifierTurn = Promise.resolve();

// `work()` run after every earlier sync or import has ended; a promise of its result.
function exclusively(work) {
  const turn = verifierTurn.then(() => work());
  verifierTurn = turn.catch(() => {});
  return turn;
}

// Save-Data or a 2G link: keep only what the reader opens or saves. The page
// reports what it sees with each sync request (a worker's own view of the
// connection can lag); the last report is kept for syncs the page did not ask for.
async function isLiteMode(reported) {
  if (typeof reported === "boolean") {
    await OfflineStore.setMeta("lite", reported);
    return reported;
  }
  const stored = await OfflineStore.getMeta("lite");
  if (typeof stored === "boolean") return stored;
  return Bulletin.liteMode();
}

// Addresses beside the worker's scope: an export or a mirror lives under a sub-path.
function scoped(path, base) {
  return new URL(path, base || self.registration.scope).href;
}

// The longest a sync request waits for its answer's headers, or between two
// parts of its body; never below the network timeout.
function patienceMs() {
  return Math.max(SETTINGS.syncTimeoutMs, SETTINGS.networkTimeoutMs);
}

// An AbortController whose abort is set off `ms` from now, and again from
// each `arm(ms)`, until `end()`.
function deadline(ms) {
  const controller = new AbortController();
  let timer = null;
  const arm = (wait) => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), wait);
  };
  arm(ms);
  return { signal: controller.signal, arm, end: () => clearTimeout(timer) };
}

// The most bytes an index may have (one of a million statements has a few
// kilobytes), and a file whose index gives no size (the list of older chunks:
// about 150 bytes a chunk). A source sending more is cut off, so a hostile
// mirror cannot fill the device's memory with an endless answer.
const MAX_INDEX_BYTES = 1024 * 1024;
const MAX_UNSIZED_FILE_BYTES = 16 * 1024 * 1024;

// An answer longer than the most it may be; it was cut off there.
class TooLong extends Error {
  constructor(message) {
    super(message);
    this.name = "TooLong";
  }
}

// A fetch for this run, its body read whole: the headers awaited for the
// network timeout where the run hurries through its sources (else for
// patienceMs()), and no pause in the body longer than patienceMs(). Past a
// bound it rejects with an AbortError (and the run passes the source over);
// past `maxBytes` of body it stops reading and rejects with TooLong.
async function sourceFetch(run, url, options = {}, maxBytes = Infinity) {
  const bound = deadline(run.hurried ? SETTINGS.networkTimeoutMs : patienceMs());
  try {
    const response = await fetch(url, { ...options, signal: bound.signal });
    if (!response.body) return response;
    const reader = response.body.getReader();
    const parts = [];
    let received = 0;
    for (;;) {
      bound.arm(patienceMs());
      const { done, value } = await reader.read(); // rejects once the deadline aborts the fetch
      if (done) break;
      received += value.byteLength;
      if (received > maxBytes) {
        await reader.cancel().catch(() => {}); // the download ends here
        throw new TooLong(`${url} sent more than ${maxBytes} bytes`);
      }
      parts.push(value);
    }
    const { status, statusText, headers } = response;
    return new Response(new Blob(parts), { status, statusText, headers });
  } finally {
    bound.end();
  }
}

function isTimeout(error) {
  return Boolean(error) && error.name === "AbortError";
}

function syncUrl(cursor, lite) {
  if (!cursor) return scoped(`api/sync?limit=${lite ? 1 : SETTINGS.keepNewest}`);
  return scoped(`api/sync?since=${encodeURIComponent(cursor)}&limit=${SETTINGS.syncLimit}`);
}

// ---------------------------------------------------------------- the pinned root

// Where the verifier's state lives (BulletinVerify: the pinned root, the keys
// it certified and revoked, the trusted time, the newest index verified).
const VERIFIER_META = Bulletin.VERIFIER_META;

// Pin the root this worker was built with, on the device's first run only:
// a later worker's root never replaces the pin (only a `root` record signed
// by the pinned root moves it, BulletinVerify.followRoot).
async function pinRoot() {
  try {
    if (SETTINGS.root && !(await OfflineStore.getMeta(VERIFIER_META))) {
      await OfflineStore.setMeta(VERIFIER_META, BulletinVerify.initialState(SETTINGS.root.public_key));
    }
  } catch (error) {
    console.warn("[bulletin-sw] the root was not pinned yet", error);
  }
}

// A verifier over the device's kept state, or null where no root is pinned.
async function deviceVerifier() {
  await pinRoot();
  const kept = await OfflineStore.getMeta(VERIFIER_META);
  if (!kept) return null;
  const backend = await BulletinVerify.chooseBackend();
  return BulletinVerify.create(BulletinVerify.stateFor(kept, kept.root), backend);
}

// A refusal counted for this run's report; anything else is not a refusal and goes on.
function refuse(run, error) {
  if (!error || error.name !== "Refused") throw error;
  run.refused[error.reason] = (run.refused[error.reason] || 0) + 1;
}

// The keys a source publishes (/keys.json's shape), then every stored record
// signed by a key now revoked marked until a valid record replaces it. A
// refused key document is counted by the verifier only: keys.json lists
// every root record, and those before the pinned one no longer verify.
async function takeKeys(run, published) {
  await run.verifier.addKeys(published && typeof published === "object" ? published : {});
  const revoked = run.verifier.state.revoked;
  const marked = (await OfflineStore.all()).filter((r) => r.signed && revoked[r.signed.kid] === true && !r.revokedKey);
  if (marked.length) await OfflineStore.putAll(marked.map((r) => Object.assign({}, r, { revokedKey: true })));
}

// ---------------------------------------------------------------- storing

// Later by (epoch, seq) than what the device holds of the same statement.
function isNewer(document, existing) {
  if (!existing.signed) return true; // stored before signatures: replaced
  return document.epoch > existing.epoch || (document.epoch === existing.epoch && document.seq > existing.seq);
}

async function store(records, stalePages) {
  const lost = await OfflineStore.putAll(records);
  await keepShells(records.map((record) => record.lang));
  if (lost) notifyClients({ type: Bulletin.MESSAGE.storageFull, lost });
  // A corrected or withdrawn page must not be shown from an old copy.
  await OfflineStore.forgetPages(stalePages);
}

function deviceRecord(statement, existing) {
  return Object.assign({}, statement, {
    withdrawn: false,
    pinned: existing ? Boolean(existing.pinned) : false,
    lastRead: existing ? existing.lastRead || 0 : 0,
  });
}

// Apply one unsigned sync response (a site without keys); resolves with the
// number of statements new to this device (corrections of statements it has are not new).
async function applyUnsigned(body, { first, lite }) {
  const records = [];
  const stalePages = [];
  let fresh = 0;
  for (const statement of body.statements) {
    const existing = await OfflineStore.get(statement.id);
    if (lite && !existing) continue;
    // A correction is a new revision; a translation published, withdrawn or
    // retitled changes only the article's links. Either way the page kept
    // from an earlier visit is stale and must not answer offline.
    if (existing && (existing.revision !== statement.revision || existing.article_html !== statement.article_html)) {
      stalePages.push(existing.url);
    }
    if (!existing && !first) fresh += 1;
    records.push(deviceRecord(statement, existing));
  }
  for (const notice of body.withdrawn) {
    stalePages.push(notice.url);
    const existing = await OfflineStore.get(notice.id);
    if (!existing) continue;
    records.push(Object.assign({}, existing, {
      withdrawn: true, withdrawn_at: notice.withdrawn_at, reason: notice.reason,
      article_html: notice.article_html, body_html: "",
    }));
  }
  await store(records, stalePages);
  return fresh;
}

// Apply signed records: each an envelope, or an object carrying its envelope
// as `signed` (/api/sync), of which only the envelope is read. A record
// refused is counted and skipped; one no newer than the device's is ignored.
// Resolves with the number of statements new to this device.
async function applySigned(items, run, { first, lite }) {
  const records = [];
  const stalePages = [];
  let fresh = 0;
  for (const item of items) {
    const envelope = item && typeof item.payload === "string" ? item : item && item.signed;
    let document;
    try {
      document = await run.verifier.acceptRecord(envelope, null);
    } catch (error) {
      refuse(run, error);
      continue;
    }
    const existing = await OfflineStore.get(document.id);
    if (existing && !isNewer(document, existing)) continue;
    if (document.type === "withdrawal") {
      stalePages.push(recordAddress(document.slug));
      if (!existing) continue;
      records.push(Object.assign({}, existing, {
        withdrawn: true, withdrawn_at: document.withdrawn_at, reason: document.reason,
        article_html: document.article_html, epoch: document.epoch, seq: document.seq,
        signed: envelope, revokedKey: false,
      }));
      continue;
    }
    if (lite && !existing) continue;
    if (existing && (existing.revision !== document.revision || existing.article_html !== document.article_html)) {
      stalePages.push(existing.url);
    }
    if (!existing && !first) fresh += 1;
    records.push(fromSigned(document, envelope, existing));
  }
  await store(records, stalePages);
  return fresh;
}

// A sync response's changes, verified where the device pinned a root.
function applyChanges(body, run, options) {
  if (!run.verifier) return applyUnsigned(body, options);
  return applySigned(body.statements.concat(body.withdrawn), run, options);
}

// ---------------------------------------------------------------- mirrors

// Which source served the last sync, for the pages: {mirror, n, total, at}
// (`mirror` the base URL, or null for the origin; `n` its place in the list).
const SOURCE_META = Bulletin.SOURCE_META;

// A source passed over: it failed, timed out or served what did not verify.
class SourceFailed extends Error {
  constructor(message) {
    super(message);
    this.name = "SourceFailed";
  }
}

// Hold the mirror list `envelope` brings when the verifier accepts it (a
// higher seq than the held list's). The held list received again is no news;
// an older one (a copy made before the list changed carries one) is ignored
// without a word to the reader; any other refusal is counted and reported.
async function takeMirrors(run, envelope) {
  if (!run.verifier || envelope === null || envelope === undefined) return;
  try {
    await run.verifier.acceptMirrors(envelope);
    await OfflineStore.setMeta(Bulletin.SIGNED_META.mirrors, envelope);
  } catch (error) {
    if (error && error.name === "Refused" && error.reason === BulletinVerify.REASONS.rollback) return;
    refuse(run, error);
  }
}

// The held list's base URLs, each an http(s) address ending in "/", but this worker's own scope.
function heldMirrors(state) {
  if (!state || !state.mirrors) return [];
  let listed;
  try {
    listed = JSON.parse(state.mirrors[1]).mirrors;
  } catch {
    return [];
  }
  if (!Array.isArray(listed)) return [];
  return listed.filter((url) => {
    try {
      return ["https:", "http:"].includes(new URL(url).protocol);
    } catch {
      return false;
    }
  }).map((url) => (url.endsWith("/") ? url : `${url}/`))
    .filter((url) => url !== self.registration.scope); // a mirror's own app: its origin is tried first anyway
}

// The mirrors in the order they are tried: the one that worked last first, then the list's order.
async function mirrorsInOrder(run) {
  const listed = heldMirrors(run.verifier && run.verifier.state);
  const last = ((await OfflineStore.getMeta(SOURCE_META)) || {}).mirror;
  return listed.includes(last) ? [last].concat(listed.filter((url) => url !== last)) : listed;
}

// One source tried with refusals of its own: kept for the report only when it
// served the sync. Resolves with {fresh, refused}, or with {timedOut} when it
// failed, timedOut saying whether it only ran out of time.
async function attempt(run, options, source) {
  const own = Object.assign({}, run, { refused: {} });
  try {
    const fresh = await (source ? syncByFiles(own, options, source) : originSync(own, options));
    return { fresh, refused: own.refused };
  } catch (error) {
    console.warn(`[bulletin-sw] ${source || "the origin"} was passed over:`, error.message || error);
    Object.entries(own.refused).forEach(([reason, count]) => {
      run.passedOver[reason] = (run.passedOver[reason] || 0) + count;
    });
    return { timedOut: isTimeout(error) };
  }
}

// The origin: its files, else its API (a site without sync files).
async function originSync(run, options) {
  const fresh = await syncByFiles(run, options);
  return fresh === null ? syncByApi(run, options) : fresh;
}

// Sync from the first source that serves what verifies: the origin, then the
// mirrors. Where every one failed, the origin's API is the last resort (its
// records verified one by one, as where the origin's index was refused on a
// device that knows no mirror), so a device offline hears it is. Resolves
// with the number of new statements; records where they came from.
async function syncFromSources(run, options) {
  const mirrors = await mirrorsInOrder(run);
  if (!mirrors.length) {
    const fresh = await originSync(run, options);
    await OfflineStore.setMeta(SOURCE_META, { mirror: null, at: Date.now() });
    return fresh;
  }
  const listed = heldMirrors(run.verifier.state);
  run.failover = true;
  run.passedOver = {};
  let sources = [null].concat(mirrors);
  // First each source within the network timeout, then those that only ran out of time, patiently.
  for (const hurried of [true, false]) {
    run.hurried = hurried;
    const slow = [];
    for (const source of sources) {
      const done = await attempt(run, options, source);
      if (done.timedOut) slow.push(source);
      if (!("fresh" in done)) continue;
      Object.assign(run.refused, done.refused);
      const via = source ? { mirror: source, n: listed.indexOf(source) + 1, total: listed.length } : { mirror: null };
      await OfflineStore.setMeta(SOURCE_META, Object.assign(via, { at: Date.now() }));
      run.via = via;
      return done.fresh;
    }
    sources = slow;
  }
  Object.assign(run.refused, run.passedOver);
  run.failover = false;
  return syncByApi(run, options);
}

// ---------------------------------------------------------------- by files

// A file the index names, as JSON, once its bytes are the ones the index
// vouches for; a file with other bytes (a tampering mirror or proxy) is
// refused whole, the pages told, and the sync stops where it was.
// More bytes than the index gives are other bytes: refused unread past the size.
async function verified(base, entry, run) {
  const most = Number.isSafeInteger(entry.size) && entry.size >= 0 ? entry.size : MAX_UNSIZED_FILE_BYTES;
  const response = await sourceFetch(run, scoped(entry.path, base), {}, most).catch((error) => {
    if (error instanceof TooLong) refuseFile(entry, run);
    throw error;
  });
  if (!response.ok) throw new Error(response.status);
  const bytes = await response.arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (byte) => (byte + 256).toString(16).slice(1)).join("");
  if (hex !== entry.sha256) refuseFile(entry, run);
  return JSON.parse(new TextDecoder().decode(bytes));
}

// A file not the one its index names: counted, the pages told, the sync stopped.
function refuseFile(entry, run) {
  if (run.verifier) run.refused["hash-mismatch"] = (run.refused["hash-mismatch"] || 0) + 1;
  const message = { type: Bulletin.MESSAGE.hashMismatch, path: entry.path };
  notifyClients(message);
  throw new Error(JSON.stringify(message));
}

// The index's document: as served on a site without keys; else once its
// keys are taken and its signature and order verified (null: refused,
// counted, and the API serves instead; its records are verified too).
async function indexDocument(index, run) {
  // A device without a pinned root reads no signed index: the API serves it.
  if (!run.verifier) return index && typeof index.payload === "string" ? null : index;
  let published = null;
  try {
    published = JSON.parse(index.payload).keys; // certificates and revocations, each verified on its own
  } catch {
    // acceptIndex refuses it as malformed
  }
  if (published) await takeKeys(run, published);
  let document;
  try {
    document = await run.verifier.acceptIndex(index);
  } catch (error) {
    refuse(run, error);
    return null;
  }
  // Kept as received, the newest verified (an older one is refused above): what a bundle made here carries.
  await OfflineStore.setMeta(Bulletin.SIGNED_META.index, index);
  if (published) await OfflineStore.setMeta(Bulletin.SIGNED_META.keys, published);
  await takeMirrors(run, document.mirrors);
  return document;
}

// Sync from the files: a new device takes the snapshot, a device with a
// cursor of the index's epoch the chunks past it (and the list of older
// ones only when it is that far behind). Resolves with the number of new
// statements, or null where there is no index (then /api/sync serves).
// `source` is the base URL of a mirror, or null for the origin. Where the run
// may fail over, a source that fails or serves an index that does not verify
// rejects (SourceFailed), and only the origin's 404 (no sync files) is null.
async function syncByFiles(run, { lite, first }, source = null) {
  const base = scoped("sync/index.json", source || undefined);
  const response = await sourceFetch(run, base, { cache: "no-cache" }, MAX_INDEX_BYTES).catch((error) => {
    if (run.failover) throw error;
    return null;
  });
  if (!response || !response.ok) {
    if (run.failover && (source || response.status !== 404)) throw new SourceFailed(`the index answered ${response.status}`);
    return null;
  }
  const index = await indexDocument(await response.json(), run);
  if (!index) {
    if (run.failover) throw new SourceFailed("the index was refused");
    return null;
  }
  // The cursor names the timeline the positions belong to: the database and its
  // epoch (a restore raises it). An unsigned index names its epoch as /api/sync's cursor does.
  const epoch = typeof index.epoch === "string" ? index.epoch.slice(0, 12)
    : `${String(index.db).replace(/\W/g, "").slice(0, 12)}e${index.epoch}`;
  const save = (position) => OfflineStore.setMeta("cursor", `v1.${epoch}.${position}`);
  const match = /^v1\.(\w+)\.(\d+)$/.exec((await OfflineStore.getMeta("cursor")) || "");
  let position = match && match[1] === epoch ? Number(match[2]) : -1;
  if (position > index.seq) position = -1; // another timeline: start again
  let fresh = 0;
  const options = { first, lite };
  if (position < 0) {
    position = index.snapshot.seq;
    if (!lite) { // a lite device keeps only what its reader opens: the position is enough
      const snapshot = await verified(base, index.snapshot, run);
      await applyChanges({ statements: snapshot.records, withdrawn: [] }, run, options);
    }
    await save(position);
  }
  let chunks = index.chunks;
  if (position < index.older.to) chunks = (await verified(base, index.older, run)).chunks.concat(chunks);
  for (const chunk of chunks.filter((entry) => entry.to > position)) {
    const body = { statements: [], withdrawn: [] };
    (await verified(base, chunk, run)).records.forEach((record) => {
      body[record && "withdrawn_at" in record && !run.verifier ? "withdrawn" : "statements"].push(record);
    });
    fresh += await applyChanges(body, run, options);
    await save(chunk.to);
  }
  await save(index.seq);
  return fresh;
}

// ---------------------------------------------------------------- by the API

async function syncByApi(run, { lite, first }) {
  if (run.verifier) {
    // The API's records carry no keys: the site's own list of them, each document verified.
    const response = await sourceFetch(run, scoped("keys.json"), { cache: "no-cache" });
    if (response.ok) {
      const published = await response.json();
      await takeKeys(run, published);
      // Kept as received for a bundle made here (each document in it is verified again on import).
      if (published && typeof published === "object") await OfflineStore.setMeta(Bulletin.SIGNED_META.keys, published);
    }
    // Nor the mirror list the index would carry: the site's own, verified like any other.
    const mirrors = await sourceFetch(run, scoped("mirrors.json"), { cache: "no-cache" }).catch(() => null);
    if (mirrors && mirrors.ok) await takeMirrors(run, await mirrors.json().catch(() => null));
  }
  let cursor = await OfflineStore.getMeta("cursor");
  let fresh = 0;
  for (let page = 0; page < MAX_SYNC_PAGES; page += 1) {
    // no-cache: revalidate with the ETag, so an unchanged answer costs a 304.
    const response = await sourceFetch(run, syncUrl(cursor, lite), { cache: "no-cache" });
    if ((response.status === 410 || response.status === 400) && cursor) {
      // Another database, a restored backup, or a position in the sync files' terms: start again.
      cursor = null;
      continue;
    }
    if (!response.ok) throw new Error(`sync answered ${response.status}`);
    const body = await response.json();
    fresh += await applyChanges(body, run, { first, lite });
    cursor = body.cursor;
    await OfflineStore.setMeta("cursor", cursor);
    if (!body.more) break;
  }
  return fresh;
}

// ---------------------------------------------------------------- a run

// The verifier's state is kept, and this run's refusals reported after the
// word that it ended, whatever it came to: what was verified stays verified,
// and a refusal that stopped the run (a file not matching its index) is told too.
async function runSync(reportedLite) {
  const options = { lite: await isLiteMode(reportedLite), first: !(await OfflineStore.getMeta("lastSync")) };
  const run = { verifier: await deviceVerifier(), refused: {} };
  let fresh = 0;
  let failure = null;
  try {
    fresh = await syncFromSources(run, options);
    await OfflineStore.setMeta("lastSync", Date.now());
    await OfflineStore.enforceBudget(SETTINGS.keepNewest, options.lite);
  } catch (error) {
    failure = error;
  }
  if (run.verifier) await OfflineStore.setMeta(VERIFIER_META, run.verifier.state);
  if (!failure) notifyClients({ type: Bulletin.MESSAGE.synced, fresh, first: options.first, via: run.via || null });
  if (Object.keys(run.refused).length) notifyClients({ type: Bulletin.MESSAGE.refused, reasons: run.refused });
  if (failure) throw failure;
}

// One sync at a time: callers arriving meanwhile share the running one.
function syncNow(reportedLite) {
  if (!runningSync) {
    runningSync = exclusively(() => runSync(reportedLite))
      .then(() => markNetwork(true))
      .catch((error) => {
        // A TypeError is how fetch says the network failed, and an AbortError
        // that it stalled past the sync's patience: the pages hear "offline",
        // and the next visit or reconnection syncs again.
        if (error instanceof TypeError || isTimeout(error)) markNetwork(false);
        else console.warn("[bulletin-sw] sync failed; the next one resumes from the stored cursor", error);
      })
      .finally(() => { runningSync = null; });
  }
  return runningSync;
}
