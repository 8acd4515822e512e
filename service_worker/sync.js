// Delta sync: bring the device up to date from the sync files where an index
// is found beside the worker's scope (the origin, an export, a mirror), else
// from /api/sync a page at a time; either way resuming from the stored
// cursor (one format for both), so a dropped connection loses nothing.
"use strict";
/* global notifyClients, markNetwork, keepShells */
/* exported runningSync, syncNow */

const MAX_SYNC_PAGES = 200; // bound on one sync run: 200 pages of changes

let runningSync = null;

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

function syncUrl(cursor, lite) {
  if (!cursor) return scoped(`api/sync?limit=${lite ? 1 : SETTINGS.keepNewest}`);
  return scoped(`api/sync?since=${encodeURIComponent(cursor)}&limit=${SETTINGS.syncLimit}`);
}

function deviceRecord(statement, existing) {
  return Object.assign({}, statement, {
    withdrawn: false,
    pinned: existing ? Boolean(existing.pinned) : false,
    lastRead: existing ? existing.lastRead || 0 : 0,
  });
}

// Apply one sync response; resolves with the number of statements new to
// this device (corrections of statements it has are not new).
async function applyChanges(body, { first, lite }) {
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
  const lost = await OfflineStore.putAll(records);
  await keepShells(records.map((record) => record.lang));
  if (lost) notifyClients({ type: Bulletin.MESSAGE.storageFull, lost });
  // A corrected or withdrawn page must not be shown from an old copy.
  await OfflineStore.forgetPages(stalePages);
  return fresh;
}

// A file the index names, as JSON, once its bytes are the ones the index
// vouches for; a file with other bytes (a tampering mirror or proxy) is
// refused whole, the pages told, and the sync stops where it was.
async function verified(base, entry) {
  const response = await fetch(scoped(entry.path, base));
  if (!response.ok) throw new Error(response.status);
  const bytes = await response.arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (byte) => (byte + 256).toString(16).slice(1)).join("");
  if (hex !== entry.sha256) {
    const message = { type: Bulletin.MESSAGE.hashMismatch, path: entry.path };
    notifyClients(message);
    throw new Error(JSON.stringify(message));
  }
  return JSON.parse(new TextDecoder().decode(bytes));
}

// Sync from the files: a new device takes the snapshot, a device with a
// cursor of the index's epoch the chunks past it (and the list of older
// ones only when it is that far behind). Resolves with the number of new
// statements, or null where there is no index (then /api/sync serves).
async function syncByFiles(lite, first) {
  const base = scoped("sync/index.json");
  const response = await fetch(base, { cache: "no-cache" }).catch(() => null);
  if (!response || !response.ok) return null;
  const index = await response.json();
  const epoch = index.epoch.slice(0, 12);
  const save = (position) => OfflineStore.setMeta("cursor", `v1.${epoch}.${position}`);
  const match = /^v1\.(\w+)\.(\d+)$/.exec((await OfflineStore.getMeta("cursor")) || "");
  let position = match && match[1] === epoch ? Number(match[2]) : -1;
  if (position > index.seq) position = -1; // another timeline: start again
  let fresh = 0;
  if (position < 0) {
    position = index.snapshot.seq;
    if (!lite) { // a lite device keeps only what its reader opens: the position is enough
      const snapshot = await verified(base, index.snapshot);
      await applyChanges({ statements: snapshot.records, withdrawn: [] }, { first, lite });
    }
    await save(position);
  }
  let chunks = index.chunks;
  if (position < index.older.to) chunks = (await verified(base, index.older)).chunks.concat(chunks);
  for (const chunk of chunks.filter((entry) => entry.to > position)) {
    const body = { statements: [], withdrawn: [] };
    (await verified(base, chunk)).records.forEach((record) => {
      body["withdrawn_at" in record ? "withdrawn" : "statements"].push(record);
    });
    fresh += await applyChanges(body, { first, lite });
    await save(chunk.to);
  }
  await save(index.seq);
  return fresh;
}

async function syncByApi(lite, first) {
  let cursor = await OfflineStore.getMeta("cursor");
  let fresh = 0;
  for (let page = 0; page < MAX_SYNC_PAGES; page += 1) {
    // no-cache: revalidate with the ETag, so an unchanged answer costs a 304.
    const response = await fetch(syncUrl(cursor, lite), { cache: "no-cache" });
    if (response.status === 410 && cursor) {
      cursor = null; // another database or a restored backup: start again
      continue;
    }
    if (!response.ok) throw new Error(`sync answered ${response.status}`);
    const body = await response.json();
    fresh += await applyChanges(body, { first, lite });
    cursor = body.cursor;
    await OfflineStore.setMeta("cursor", cursor);
    if (!body.more) break;
  }
  return fresh;
}

async function runSync(reportedLite) {
  const lite = await isLiteMode(reportedLite);
  const first = !(await OfflineStore.getMeta("lastSync"));
  let fresh = await syncByFiles(lite, first);
  if (fresh === null) fresh = await syncByApi(lite, first);
  await OfflineStore.setMeta("lastSync", Date.now());
  await OfflineStore.enforceBudget(SETTINGS.keepNewest, lite);
  notifyClients({ type: Bulletin.MESSAGE.synced, fresh, first });
}

// One sync at a time: callers arriving meanwhile share the running one.
function syncNow(reportedLite) {
  if (!runningSync) {
    runningSync = runSync(reportedLite)
      .then(() => markNetwork(true))
      .catch((error) => {
        // A TypeError is how fetch says the network failed: the pages hear
        // "offline", and the next visit or reconnection syncs again.
        if (error instanceof TypeError) markNetwork(false);
        else console.warn("[bulletin-sw] sync failed; the next one resumes from the stored cursor", error);
      })
      .finally(() => { runningSync = null; });
  }
  return runningSync;
}
