// Bulletin's service worker: the wiring. SETTINGS (version, precache list,
// timeouts, the root to pin) is injected above this file by the server when
// /sw.js is served. Sync, its verifier and the lists built on the device come
// from the bundle SETTINGS.imports.worker (static/js/worker/), imported here.
"use strict";
/* global isStorable, NetworkTimeout, cacheFirst, staleWhileRevalidate, networkFirst, runningSync, syncNow, fromListShell, pinRoot, BulletinVerify, signerOf, importBundle, MAX_BUNDLE_BYTES */
/* exported notifyClients, markNetwork, escapeHtml, madePage, CACHES, keepShells */

importScripts(SETTINGS.imports.worker);
// The Ed25519 fallback again, at each later start of a worker that imported it while installing.
BulletinVerify.importFallbackAtStart(SETTINGS.imports.ed25519);

const { CACHE_PREFIX, MESSAGE, SYNC_TAG, ROOT } = Bulletin;
const CACHES = {
  precache: `${CACHE_PREFIX}precache-${SETTINGS.version}`,
  pages: OfflineStore.PAGES_CACHE,
  static: `${CACHE_PREFIX}static-v1`,
};
const MAX_PAGES = 150;
const MAX_STATIC = 30;
// Each interface language's precache entries: its page script, then its
// manifest, offline page and statement shell (SETTINGS.languagePages under
// ROOT and the language's prefix, none for the default's), these three of one revision.
const LANGUAGES = {};
Object.entries(SETTINGS.languages).forEach(([lang, [script, revision]]) => {
  const prefix = lang === SETTINGS.defaultLang ? ROOT : `${ROOT}/${lang}`;
  LANGUAGES[lang] = [{ url: script, revision: script.split(".")[2] }]
    .concat(SETTINGS.languagePages.map((path) => ({ url: prefix + path, revision })));
});
const PRECACHED = new Set(SETTINGS.precache.concat(...Object.values(LANGUAGES)).map((entry) => entry.url));
const REVISION_HEADER = "X-Bulletin-Revision";

let networkOnline = true;
// Notices for the reader that may arise mid-navigation, before the page that
// should show them exists: kept until a page asks for its status.
const pendingNotices = [];

async function notifyClients(message) {
  if (message.type === MESSAGE.storageFull || message.type === MESSAGE.refused) pendingNotices.push(message);
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

// An entry whose revision is unchanged is copied from a precache
// instead of being downloaded again: readers pay for changed bytes only.
async function previousCopy(url, revision) {
  for (const name of await caches.keys()) {
    // The current precache too: a language's entries kept already are not fetched again.
    if (!name.startsWith(`${CACHE_PREFIX}precache-`)) continue;
    const hit = await (await caches.open(name)).match(url);
    if (hit && hit.headers.get(REVISION_HEADER) === revision) return hit;
  }
  return null;
}

async function precacheEntries(entries) {
  const cache = await caches.open(CACHES.precache);
  await Promise.all(entries.map(async ({ url, revision }) => {
    const copy = await previousCopy(url, revision);
    if (copy) return cache.put(url, copy);
    const response = await fetch(url, { cache: "no-cache" });
    if (!response.ok) throw new Error(`precache of ${url} answered ${response.status}`);
    return cache.put(url, await withRevision(response, revision));
  }));
}

// What every reader needs, the default language's pages, and what an earlier
// worker kept (kept through updates): all of a language the reader read in,
// the shell of one of statements on the device; another language's pages
// come when a page in it is shown (keep).
async function precache() {
  const names = (await caches.keys()).filter((name) => name.startsWith(`${CACHE_PREFIX}precache-`));
  const earlier = await Promise.all(names.map((name) => caches.open(name)));
  const entries = SETTINGS.precache.concat(LANGUAGES[SETTINGS.defaultLang]);
  const keptBefore = async (url) => (await Promise.all(earlier.map((cache) => cache.match(url)))).some(Boolean);
  for (const [lang, language] of Object.entries(LANGUAGES)) {
    if (lang === SETTINGS.defaultLang) continue;
    if (await keptBefore(language[2].url)) entries.push(...language);
    else if (await keptBefore(language[3].url)) entries.push(language[3]);
  }
  await precacheEntries(entries);
}

// Precache entries kept on demand, each once per worker: a language's pages
// when a page in it is shown, the statement shell of each language of
// statements on the device (sync.js), so one opened offline has its own
// language's interface.
const kept = new Set();

async function keep(entries) {
  const wanted = entries.filter((entry) => !kept.has(entry.url) && kept.add(entry.url));
  await precacheEntries(wanted).catch((error) => {
    wanted.forEach((entry) => kept.delete(entry.url)); // tried again next time
    console.warn("[bulletin-sw] offline pages were not kept", error);
  });
}

const keepShells = (langs) => keep(langs.filter((lang) => lang in LANGUAGES).map((lang) => LANGUAGES[lang][3]));

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
  await OfflineStore.forgetUnder(`${ROOT}/editor/`);
}

// Statement pages became folders (/statements/<slug>/): a device synced
// before keeps its statements under the old addresses, the old links in their
// articles. They move to the new ones, and the next sync starts afresh,
// bringing the articles as the server renders them now.
async function moveToFolders() {
  const old = (await OfflineStore.all()).filter((record) => !record.url.endsWith("/"));
  if (!old.length) return;
  await OfflineStore.putAll(old.map((record) => ({ ...record, url: `${record.url}/` })));
  await OfflineStore.forgetPages(old.map((record) => record.url));
  await OfflineStore.setMeta("cursor", null);
}

// ---------------------------------------------------------------- navigation

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// A page made on the device from `source` (a shell, a stored page): its CSP
// and security headers, less what described the source's own bytes.
function madePage(html, source) {
  const headers = new Headers(source.headers);
  ["Content-Length", "Content-Encoding", "ETag", "X-Robots-Tag", REVISION_HEADER].forEach((name) => headers.delete(name));
  return new Response(html, { status: source.status, headers });
}

// A page of the interface language of a statement (its own, when it has
// one) or of an address's prefix (/ru/...), else of the default language:
// LANGUAGES' entry 2, the offline page, or 3, the shell.
async function precached(entry, pathname, record) {
  const lang = [record && record.lang, (Bulletin.local(pathname) || "").split("/")[1]].find((code) => code in LANGUAGES);
  const match = (code) => caches.match(LANGUAGES[code][entry].url, { cacheName: CACHES.precache });
  return (lang && (await match(lang))) || match(SETTINGS.defaultLang);
}

// The shell's line saying who signed the record (its key id and the pinned
// root's fingerprint), or nothing for a record stored unsigned.
async function withSigner(html, record) {
  const { start, end, kid, fingerprint } = SETTINGS.signedSlots;
  const from = html.indexOf(start);
  const to = html.indexOf(end, from);
  if (from < 0 || to < 0) return html;
  const signer = await signerOf(record);
  const line = signer
    ? html.slice(from, to + end.length).split(kid).join(escapeHtml(signer.kid)).split(fingerprint).join(escapeHtml(signer.fingerprint))
    : "";
  return html.slice(0, from) + line + html.slice(to + end.length);
}

// The server's own statement shell with the server's own <article> in its slot.
async function fromShell(record, pathname) {
  const shell = await precached(3, pathname, record);
  if (!shell) return null;
  const title = `<title>${escapeHtml(record.title)} · ${escapeHtml(SETTINGS.siteName)}</title>`;
  const html = (await withSigner(await shell.text(), record))
    .replace(/<title>[^<]*<\/title>/, () => title)
    .replace(SETTINGS.shellMarker, () => record.article_html);
  return madePage(html, shell);
}

async function offlinePage(pathname) {
  return precached(2, pathname);
}

// A saved statement shown because the network stalled: the page is marked
// with the time of the copy, and the network's late answer is compared with
// it. `checks` holds, per address, what the comparison found ("newer",
// "current" or "unreachable") until the page asks (MESSAGE.freshness); one
// entry per address at most, and gone when the browser stops the idle worker.
const checks = new Map();

// The <article> of a page: what the reader reads, apart from the page's
// assets and chrome, which a deploy changes without changing the statement.
function articleOf(html) {
  const start = html.indexOf("<article");
  const end = html.lastIndexOf("</article>");
  return start >= 0 && end > start ? html.slice(start, end) : html;
}

function compareLate(path, network, copyArticle) {
  const found = network
    .then(async (response) => {
      if (response.status >= 500) return "unreachable";
      if (response.status !== 200) return "newer"; // withdrawn (410) or gone: the reader must see it
      return articleOf(await response.text()) === copyArticle ? "current" : "newer";
    })
    .catch(() => "unreachable");
  checks.set(path, found);
}

async function markedSavedCopy(response, savedAt) {
  const meta = `<meta name="bulletin-saved-copy" content="${savedAt}">`;
  return madePage((await response.text()).replace("<head>", () => `<head>${meta}`), response);
}

// What answers a statement's address when the network did not: its stored
// page, else the page built from its synced record. A stall (as opposed to
// no network) marks it as a saved copy and checks the late answer.
async function savedStatement(url, cached, record, error, network) {
  const copy = cached ? cached.clone() : record && record.article_html && (await fromShell(record, url.pathname));
  if (!copy) return null;
  if (!(error instanceof NetworkTimeout)) return copy;
  const copyArticle = cached ? articleOf(await cached.text()) : articleOf(record.article_html);
  compareLate(url.pathname, network, copyArticle);
  // A sync forgets every copy whose statement changed, so a copy is known
  // current as of the last sync, or as of its own download when later.
  const downloaded = cached ? Date.parse(cached.headers.get("Date")) || 0 : 0;
  return markedSavedCopy(copy, Math.max(downloaded, (await OfflineStore.getMeta("lastSync")) || 0));
}

// The search page without a query: the page script then searches the device.
const SEARCH_PATH = /^(\/[a-z]{2})?\/search\/$/;
// LANGUAGES' entry of the empty search page (after the script and the pages
// before it in worker.LANGUAGE_PAGES).
const SEARCH_ENTRY = 7;

// The empty search page the device's search fills, in the address's language
// when the device keeps it, else in the default's.
const isSearch = (url) => SEARCH_PATH.test(Bulletin.local(url.pathname));

async function searchPage(url) {
  if (!isSearch(url)) return null;
  return precached(SEARCH_ENTRY, url.pathname);
}

async function navigate(event) {
  const started = Date.now(); // the reader's wait starts now, not after the lookups below
  const url = new URL(event.request.url);
  // A static host (an export) answers a list's "Older" pages with its first
  // page, the query unread: the device builds them from what it holds.
  if (SETTINGS.staticHost && /[?&](page|before)=/.test(url.search)) {
    const older = await fromListShell(url);
    if (older) return older;
  }
  const cached = await caches.match(event.request, { cacheName: CACHES.pages });
  const record = Bulletin.isStatementPath(url.pathname) ? await OfflineStore.byUrl(url.pathname) : undefined;
  // A list the device can build answers a stall as well as a stored page;
  // a search always has an answer on the device: the server gets the timeout, no longer.
  const built = cached ? null : await fromListShell(url);
  const hasCopy = Boolean(cached || built || (record && record.article_html) || isSearch(url));
  const storable = (response) => {
    markNetwork(true); // called for every answer that came from the network
    // Searches stay off the device: what a reader looked for is nobody's business.
    return !isSearch(url) && isStorable(response);
  };
  return networkFirst(event, CACHES.pages, {
    ...STRATEGY_OPTIONS,
    timeoutMs: Math.max(0, SETTINGS.networkTimeoutMs - (Date.now() - started)),
    maxEntries: MAX_PAGES,
    hasCopy,
    storable,
    fallback: async (error, network) => {
      if (!(error instanceof NetworkTimeout)) markNetwork(false);
      if (Bulletin.isStatementPath(url.pathname)) {
        const saved = await savedStatement(url, cached, record, error, network);
        if (saved) return saved;
      }
      // A precached page (/about) answers offline as itself, not as the list of what is readable.
      const precachedPage = PRECACHED.has(url.pathname) && (await caches.match(url.pathname, { cacheName: CACHES.precache }));
      return cached || precachedPage || built || (await searchPage(url)) || offlinePage(url.pathname);
    },
  });
}

// ---------------------------------------------------------------- listeners

self.addEventListener("install", (event) => {
  // No skipWaiting here: a new worker waits until the reader accepts the update.
  // The fallback Ed25519 library only where WebCrypto lacks Ed25519: sync then
  // fails (and says so) rather than storing what it cannot verify.
  const fallback = BulletinVerify.importFallbackAtInstall(SETTINGS.imports.ed25519)
    .catch((error) => console.warn("[bulletin-sw] no Ed25519 on this device", error));
  event.waitUntil(Promise.all([precache(), fallback]));
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
  const moveOld = () => moveToFolders()
    .catch((error) => console.warn("[bulletin-sw] statements synced before may keep their old addresses", error));
  event.waitUntil(deleteOutdatedCaches().then(forgetEditor).then(moveOld).then(pinRoot).then(() => self.clients.claim()));
});

// The share target's action (the manifest's share_target): a bundle file
// shared to the installed app, imported, then the offline page of the
// address's language showing the report (kept as the last import's).
const SHARE_PATH = /^(\/[a-z]{2})?\/offline\/import\/$/;

async function sharedBundle(request, path) {
  // Refused unread when the form is far larger than any bundle the import takes.
  const declared = Number(request.headers.get("Content-Length") || 0);
  let file = { size: declared, text: null };
  if (declared <= MAX_BUNDLE_BYTES + 65536) {
    const form = await request.formData().catch(() => null);
    const field = form && form.get(SETTINGS.shareField);
    file = field && typeof field === "object" ? field : null; // no file in the form: not a bundle
  }
  await importBundle(file);
  const prefix = SHARE_PATH.exec(path)[1] || "";
  return Response.redirect(`${ROOT}${prefix}/offline/#import-result`, 303);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method === "POST" && url.origin === self.location.origin && SHARE_PATH.test(Bulletin.local(url.pathname) || "")) {
    event.respondWith(sharedBundle(request, Bulletin.local(url.pathname)));
    return;
  }
  if (request.method !== "GET") return;
  const path = Bulletin.local(url.pathname);
  // Another origin, or this one outside the worker's scope: not Bulletin's.
  if (url.origin !== self.location.origin || path === null) return;
  // The editor's pages go to the network untouched: no cache, no copy, no store.
  if (Bulletin.isEditorPath(url.pathname)) return;
  if (path === "/sw.js" || path.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(event));
  } else if (PRECACHED.has(url.pathname)) {
    event.respondWith(cacheFirst(request, CACHES.precache, STRATEGY_OPTIONS));
  } else if (path.startsWith("/static/")) {
    event.respondWith(staleWhileRevalidate(event, CACHES.static, { ...STRATEGY_OPTIONS, maxEntries: MAX_STATIC }));
  }
});

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  // A page's status and sync requests name its interface language: keep its pages.
  if (type && event.data.lang in LANGUAGES) event.waitUntil(keep(LANGUAGES[event.data.lang]));
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
  } else if (type === MESSAGE.importBundle) {
    // Answered on the port the page sent (a page's own channel), else to the page itself.
    const reply = (event.ports && event.ports[0]) || event.source;
    event.waitUntil(importBundle(event.data.file).then((report) => {
      if (reply) reply.postMessage({ type: MESSAGE.importBundle, report });
    }));
  } else if (type === MESSAGE.freshness && event.source) {
    const path = String(event.data.path || "");
    const found = checks.get(path);
    if (!found) return;
    const asker = event.source;
    event.waitUntil(found.then((state) => {
      checks.delete(path);
      asker.postMessage({ type: MESSAGE.freshness, path, state });
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
