// Bulletin's service worker: the wiring. SETTINGS (version, precache list,
// timeouts) is injected above this file by the server when /sw.js is served.
"use strict";
/* global isStorable, NetworkTimeout, cacheFirst, staleWhileRevalidate, networkFirst, runningSync, syncNow */
/* exported notifyClients, markNetwork */

const { CACHE_PREFIX, MESSAGE, SYNC_TAG } = Bulletin;
const CACHES = {
  precache: `${CACHE_PREFIX}precache-${SETTINGS.version}`,
  pages: OfflineStore.PAGES_CACHE,
  static: `${CACHE_PREFIX}static-v1`,
};
const MAX_PAGES = 150;
const MAX_STATIC = 30;
const PRECACHED = new Set(SETTINGS.precache.map((entry) => entry.url));
const REVISION_HEADER = "X-Bulletin-Revision";

let networkOnline = true;
// Notices for the reader that may arise mid-navigation, before the page that
// should show them exists: kept until a page asks for its status.
const pendingNotices = [];

async function notifyClients(message) {
  if (message.type === MESSAGE.storageFull) pendingNotices.push(message);
  const clients = await self.clients.matchAll({ includeUncontrolled: true, type: "window" });
  clients.forEach((client) => client.postMessage(message));
}

// What every strategy (strategies.js) is given besides its own options.
const STRATEGY_OPTIONS = { store: OfflineStore, notify: notifyClients };

// Every failure is told, not only the first: a page that heard an "offline"
// while its device was online asks for a check and waits for the next word.
function markNetwork(online) {
  if (online && networkOnline) return;
  networkOnline = online;
  notifyClients({ type: MESSAGE.network, online });
}

// ---------------------------------------------------------------- install

async function withRevision(response, revision) {
  const headers = new Headers(response.headers);
  headers.set(REVISION_HEADER, revision);
  return new Response(await response.blob(), { status: response.status, headers });
}

// An entry whose revision is unchanged is copied from the previous precache
// instead of being downloaded again: readers pay for changed bytes only.
async function previousCopy(url, revision) {
  for (const name of await caches.keys()) {
    if (!name.startsWith(`${CACHE_PREFIX}precache-`) || name === CACHES.precache) continue;
    const hit = await (await caches.open(name)).match(url);
    if (hit && hit.headers.get(REVISION_HEADER) === revision) return hit;
  }
  return null;
}

async function precache() {
  const cache = await caches.open(CACHES.precache);
  await Promise.all(SETTINGS.precache.map(async ({ url, revision }) => {
    const copy = await previousCopy(url, revision);
    if (copy) return cache.put(url, copy);
    const response = await fetch(url, { cache: "no-cache" });
    if (!response.ok) throw new Error(`precache of ${url} answered ${response.status}`);
    return cache.put(url, await withRevision(response, revision));
  }));
}

async function deleteOutdatedCaches() {
  const expected = new Set(Object.values(CACHES));
  const names = await caches.keys();
  await Promise.all(names
    .filter((name) => name.startsWith(CACHE_PREFIX) && !expected.has(name))
    .map((name) => caches.delete(name)));
}

// Earlier versions let a previewed draft onto the device: the page script
// stored it as a statement under its /editor/ address. Each new worker
// removes whatever is left under /editor/, from every cache of Bulletin's and
// from the stored statements.
async function forgetEditorEntries() {
  const names = (await caches.keys()).filter((name) => name.startsWith(CACHE_PREFIX));
  await Promise.all(names.map(async (name) => {
    const cache = await caches.open(name);
    const keys = await cache.keys();
    await Promise.all(keys
      .filter((request) => Bulletin.isEditorPath(new URL(request.url).pathname))
      .map((request) => cache.delete(request)));
  }));
  await OfflineStore.forgetUnder("/editor/");
}

// ---------------------------------------------------------------- navigation

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The server's own statement shell with the server's own <article> in its slot.
async function fromShell(record) {
  const shell = await caches.match(SETTINGS.shellUrl, { cacheName: CACHES.precache });
  if (!shell) return null;
  const title = `<title>${escapeHtml(record.title)} · ${escapeHtml(SETTINGS.siteName)}</title>`;
  const html = (await shell.text())
    .replace(/<title>[^<]*<\/title>/, () => title)
    .replace(SETTINGS.shellMarker, () => record.article_html);
  const headers = new Headers(shell.headers); // the shell's CSP and security headers
  ["Content-Length", "Content-Encoding", "ETag", REVISION_HEADER].forEach((name) => headers.delete(name));
  return new Response(html, { status: 200, headers });
}

async function offlinePage() {
  return caches.match(SETTINGS.offlineUrl, { cacheName: CACHES.precache });
}

// The search page without a query: the page script then searches the device.
async function searchPage(url) {
  if (url.pathname !== SETTINGS.searchUrl) return null;
  return caches.match(SETTINGS.searchUrl, { cacheName: CACHES.precache });
}

async function navigate(event) {
  const url = new URL(event.request.url);
  const cached = await caches.match(event.request, { cacheName: CACHES.pages });
  const record = Bulletin.isStatementPath(url.pathname) ? await OfflineStore.byUrl(url.pathname) : undefined;
  // A search always has an answer on the device: the server gets the timeout, no longer.
  const hasCopy = Boolean(cached || (record && record.article_html) || url.pathname === SETTINGS.searchUrl);
  const storable = (response) => {
    markNetwork(true); // called for every answer that came from the network
    // Searches stay off the device: what a reader looked for is nobody's business.
    return url.pathname !== "/search" && isStorable(response);
  };
  return networkFirst(event, CACHES.pages, {
    ...STRATEGY_OPTIONS,
    timeoutMs: SETTINGS.networkTimeoutMs,
    maxEntries: MAX_PAGES,
    hasCopy,
    storable,
    fallback: async (error) => {
      if (!(error instanceof NetworkTimeout)) markNetwork(false);
      return cached || (record && record.article_html && (await fromShell(record))) || (await searchPage(url))
        || offlinePage();
    },
  });
}

// ---------------------------------------------------------------- listeners

self.addEventListener("install", (event) => {
  // No skipWaiting here: a new worker waits until the reader accepts the update.
  event.waitUntil(precache());
});

self.addEventListener("activate", (event) => {
  // No sync here: fetch events wait for activation, and a slow sync must not
  // hold up the reader's navigation. The page asks for the first sync as soon
  // as this worker takes control (controllerchange).
  // The clean-up comes after the deletions: opening a cache being deleted
  // would make it again. A failed one is told and tried again by the next
  // worker: it must not keep this one from taking control.
  const forgetEditor = () => forgetEditorEntries()
    .catch((error) => console.warn("[bulletin-sw] /editor/ entries may be left on the device", error));
  event.waitUntil(deleteOutdatedCaches().then(forgetEditor).then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The editor's pages go to the network untouched: no cache, no copy, no store.
  if (Bulletin.isEditorPath(url.pathname)) return;
  if (url.pathname === "/sw.js" || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(event));
  } else if (PRECACHED.has(url.pathname)) {
    event.respondWith(cacheFirst(request, CACHES.precache, STRATEGY_OPTIONS));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(staleWhileRevalidate(event, CACHES.static, { ...STRATEGY_OPTIONS, maxEntries: MAX_STATIC }));
  }
});

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  if (type === MESSAGE.skipWaiting) {
    self.skipWaiting();
  } else if (type === MESSAGE.sync) {
    const { lite, check } = event.data;
    const asker = event.source;
    // A check answers the page that asked, after a sync of its own: one
    // already running began earlier, maybe before the connection came back.
    const synced = check && runningSync ? runningSync.then(() => syncNow(lite)) : syncNow(lite);
    event.waitUntil(synced.then(() => {
      if (check && asker) asker.postMessage({ type: MESSAGE.network, online: networkOnline, checked: true });
    }));
  } else if (type === MESSAGE.status && event.source) {
    event.source.postMessage({ type: MESSAGE.network, online: networkOnline });
    pendingNotices.splice(0).forEach((notice) => event.source.postMessage(notice));
  }
});

self.addEventListener("periodicsync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(syncNow());
});

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(syncNow());
});
