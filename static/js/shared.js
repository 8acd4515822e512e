// What the page script and the service worker must agree on, written once:
// the page bundle includes this file and /sw.js starts with it (see
// bulletin/pwa/worker.py), so a name changed here changes on both sides of
// every message. It starts the `Bulletin` namespace, to which the page
// script's own files add their parts.
"use strict";
/* exported Bulletin */

const Bulletin = {
  // Every Cache Storage name of Bulletin's starts with this: a new worker and
  // the kill switch delete Bulletin's old caches by it, and nobody else's.
  CACHE_PREFIX: "bulletin-",
  DB_NAME: "bulletin", // the IndexedDB database (offline-store.js)
  // The meta entries holding, as received, the signed documents besides records that the worker
  // verified last: the keys (/keys.json's object), the sync index and the mirror list (envelopes).
  // A bundle made on the device carries them (static/js/offline/device-bundle.js).
  SIGNED_META: { keys: "signedKeys", index: "signedIndex", mirrors: "signedMirrors" },
  // The meta entry of the device's verifier (static/js/verify.js's state: the pinned root, the keys,
  // the trusted time), kept by the worker's syncs and imports, read by pages and the worker alike.
  VERIFIER_META: "verifier",
  // The meta entry of the last bundle import's report (static/js/worker/imports.js), for the page a
  // shared file opens.
  IMPORT_META: "lastImport",
  // The meta entry saying where the last sync came from ({mirror, n, total, at}; mirror null: the
  // origin), kept by the worker, told to the reader by the pages.
  SOURCE_META: "syncSource",
  SYNC_TAG: "bulletin-sync", // the worker's background syncs (periodic and one-off)
  // The `type` of every message between the page and the worker.
  MESSAGE: {
    skipWaiting: "skip-waiting", // page to the waiting worker: the reader accepted the update
    sync: "sync", // page to worker: sync now ({lite, check, lang})
    status: "status", // page to worker: send the network's state and the notices kept for pages ({lang})
    network: "network", // worker to page: {online, checked}
    synced: "synced", // worker to pages: {fresh, first}
    storageFull: "storage-full", // worker to pages: {lost}
    hashMismatch: "hash-mismatch", // worker to pages: {path}, a sync file refused for not matching its index
    refused: "refused", // worker to pages, after a sync: {reasons: {<reason code>: count}}, what it refused to store
    // page to worker: {file}, a bundle file to import; answered on the message's port
    // with {type, report} (static/js/worker/imports.js)
    importBundle: "import-bundle",
    // page to worker: {path}, asked by a saved copy shown on a stalled link; worker
    // to that page once the network answered: {path, state: newer|current|unreachable}
    freshness: "freshness",
  },

  // The path the site is mounted at: "" at the origin's root, "/news" under a
  // prefix. The worker's scope, or, in a page, its script's address before /static/.
  ROOT: new URL(self.registration ? self.registration.scope : document.currentScript.src).pathname
    .replace(/\/(static\/.*)?$/, ""),

  // An address of this site as it reads below ROOT ("/statements/x/"); null outside it.
  local(pathname) {
    return pathname.startsWith(`${Bulletin.ROOT}/`) ? pathname.slice(Bulletin.ROOT.length) : null;
  },

  // The only addresses whose statements a device keeps: /statements/<slug>/.
  // Everything else holding an article (the editor's preview of a draft)
  // must never be stored as something readers can read.
  isStatementPath(pathname) {
    return /^\/statements\/[^/]+\/$/.test(Bulletin.local(pathname));
  },

  // The lists a device can build from the list shells: the latest statements
  // and a tag's. `prefix` is the part before them (ROOT, then a language's
  // "/ru" but the default's), so one device-side list serves every prefix.
  // Null for any other address.
  listRoute(pathname) {
    const match = /^(\/[a-z]{2})?\/(?:tags\/([^/]+)\/)?$/.exec(Bulletin.local(pathname));
    if (!match) return null;
    let tag = null;
    if (match[2] !== undefined) {
      try { tag = decodeURIComponent(match[2]); } catch { return null; } // a malformed escape names no tag
    }
    return { prefix: Bulletin.ROOT + (match[1] || ""), tag };
  },

  // The editor's pages: an editor's, never a reader's, so never on a device.
  // The editor's pages and its own bundles (static/gen/editor.*): nothing of
  // the editor is kept on a device.
  isEditorPath(pathname) {
    const path = Bulletin.local(pathname) || "";
    return path === "/editor" || path.startsWith("/editor/") || path.startsWith("/static/gen/editor.");
  },

  // Save-Data or a 2G link, as this side sees the connection now: the worker
  // then keeps only what the reader opens or saves.
  liteMode() {
    const connection = self.navigator.connection;
    return Boolean(connection && (connection.saveData || /(^|-)2g$/.test(connection.effectiveType || "")));
  },
};
