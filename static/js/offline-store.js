// What this device keeps: statements in IndexedDB, shared by the page script
// and the service worker (both include this file), so there is one storage
// layer and one eviction rule.
//
// A record is the API's statement object (article_html is the server's own
// markup) on a site without keys, else what a verified signed record's
// payload says with its envelope as `signed` (static/js/worker/records.js);
// plus what only the device knows: pinned (saved by the reader), lastRead
// (ms), once withdrawn the withdrawal notice in article_html, and
// revokedKey while its signer's key is revoked and no valid record replaced it.
// The meta store also keeps the sync cursor and the verifier's state (`verifier`).
"use strict";
/* exported OfflineStore */

const OfflineStore = (() => {
  const PAGES_CACHE = `${Bulletin.CACHE_PREFIX}pages-v1`;
  let opening = null;

  function open() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const request = indexedDB.open(Bulletin.DB_NAME, 1);
        request.onupgradeneeded = () => {
          const statements = request.result.createObjectStore("statements", { keyPath: "id" });
          statements.createIndex("url", "url", { unique: false });
          request.result.createObjectStore("meta", { keyPath: "key" });
        };
        request.onsuccess = () => {
          const db = request.result;
          db.onversionchange = () => { db.close(); opening = null; };
          resolve(db);
        };
        request.onerror = () => { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  // Run work(stores) in one transaction; resolve with its result once committed.
  async function transact(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(["statements", "meta"], mode);
      let result;
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new DOMException("aborted", "AbortError"));
      result = work({ statements: tx.objectStore("statements"), meta: tx.objectStore("meta") });
    });
  }

  function collect(request) {
    const box = { value: undefined };
    request.onsuccess = () => { box.value = request.result; };
    return box;
  }

  async function all() {
    const box = await transact("readonly", (s) => collect(s.statements.getAll()));
    return box.value || [];
  }

  async function byUrl(url) {
    const box = await transact("readonly", (s) => collect(s.statements.index("url").get(url)));
    return box.value;
  }

  async function get(id) {
    const box = await transact("readonly", (s) => collect(s.statements.get(id)));
    return box.value;
  }

  // The records of `ids` (undefined where none), read in one transaction.
  async function getMany(ids) {
    const boxes = await transact("readonly", (s) => ids.map((id) => collect(s.statements.get(id))));
    return boxes.map((box) => box.value);
  }

  async function count() {
    const box = await transact("readonly", (s) => collect(s.statements.count()));
    return box.value || 0;
  }

  async function getMeta(key) {
    const box = await transact("readonly", (s) => collect(s.meta.get(key)));
    return box.value ? box.value.value : undefined;
  }

  function setMeta(key, value) {
    return transact("readwrite", (s) => { s.meta.put({ key, value }); });
  }

  function readable(record) {
    return Boolean(record && record.article_html && !record.withdrawn);
  }

  // Newest first, as the server lists them: ISO dates and instants sort as text.
  function newestFirst(a, b) {
    return (b.published || "").localeCompare(a.published || "");
  }

  async function forgetPages(urls) {
    if (!urls.length || typeof caches === "undefined") return;
    const cache = await caches.open(PAGES_CACHE);
    await Promise.all(urls.map((url) => cache.delete(url)));
  }

  // Delete every record whose url starts with `prefix`: one range of the url index.
  function forgetUnder(prefix) {
    return transact("readwrite", (s) => {
      const request = s.statements.index("url").openCursor(IDBKeyRange.bound(prefix, `${prefix}\uffff`));
      request.onsuccess = () => {
        const cursor = request.result;
        if (!cursor) return;
        cursor.delete();
        cursor.continue();
      };
    });
  }

  function isQuotaError(error) {
    return Boolean(error) && error.name === "QuotaExceededError";
  }

  // Remove up to `count` of the least recently read statements that the
  // reader did not save; returns how many went.
  async function evict(count, protect = new Set()) {
    const victims = (await all())
      .filter((r) => !r.pinned && !protect.has(r.id))
      .sort((a, b) => (a.lastRead || 0) - (b.lastRead || 0) || newestFirst(b, a))
      .slice(0, count);
    await transact("readwrite", (s) => victims.forEach((r) => s.statements.delete(r.id)));
    await forgetPages(victims.map((r) => r.url));
    return victims.length;
  }

  function putEach(records) {
    return transact("readwrite", (s) => records.forEach((r) => s.statements.put(r)));
  }

  // Store records. When storage is full, evict the least recently read
  // statements, then store the new ones one by one, newest first, for as
  // long as there is room: a full storage never stops a sync or a page.
  // Resolves with how many statements were evicted or could not be stored.
  async function putAll(records) {
    try {
      await putEach(records);
      return 0;
    } catch (error) {
      if (!isQuotaError(error)) throw error;
    }
    const protect = new Set(records.map((r) => r.id));
    let lost = await evict(Math.max(5, records.length), protect);
    const ordered = records.slice().sort(newestFirst);
    for (let i = 0; i < ordered.length; i += 1) {
      try {
        await putEach([ordered[i]]);
      } catch (error) {
        if (!isQuotaError(error)) throw error;
        lost += ordered.length - i;
        break;
      }
    }
    return lost;
  }

  // Keep the newest `keepNewest` statements (none in lite mode), plus every
  // statement the reader opened or saved. A withdrawn one keeps its place,
  // now holding the withdrawal notice, so the reader learns why it went.
  async function enforceBudget(keepNewest, lite) {
    const records = (await all()).sort(newestFirst);
    const newest = new Set(lite ? [] : records.slice(0, keepNewest).map((r) => r.id));
    const dropped = records.filter((r) => !r.pinned && !r.lastRead && !newest.has(r.id));
    await transact("readwrite", (s) => dropped.forEach((r) => s.statements.delete(r.id)));
    await forgetPages(dropped.map((r) => r.url));
    return dropped.length;
  }

  async function summary() {
    const records = await all();
    return { count: records.filter(readable).length, lastSync: await getMeta("lastSync") };
  }

  return {
    PAGES_CACHE, all, byUrl, get, getMany, count, getMeta, setMeta, putAll, evict, enforceBudget,
    forgetPages, forgetUnder, readable, newestFirst, summary, isQuotaError,
  };
})();
