// How to answer a request, after the Offline Cookbook. Like Workbox's, each
// strategy takes a request (or the fetch event, when work goes on after the
// answer), a cache name and options, and resolves with a Response; *when* to
// use which is decided by the route table in sw.js. A strategy reaches for no
// state of the worker: what it needs comes in its options, which always hold
//   store   the statements on the device (OfflineStore): a full storage evicts
//           some of them to make room for the response;
//   notify  a function sending a message to every page: readers are told
//           when statements were lost to a full storage.
"use strict";
/* exported isStorable, NetworkTimeout, cacheFirst, staleWhileRevalidate, networkFirst */

// Only same-origin GETs answered 200, not redirected, that HTTP allows to store.
function isStorable(response) {
  if (!response || response.status !== 200 || response.redirected || response.type !== "basic") return false;
  const cacheControl = (response.headers.get("Cache-Control") || "").toLowerCase();
  return !/no-store|private/.test(cacheControl);
}

class NetworkTimeout extends Error {}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new NetworkTimeout(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Put a response in a cache; a full storage evicts statements and retries
// once, and never breaks the answer to the reader.
async function putSafely(cacheName, request, response, { store, notify }) {
  const cache = await caches.open(cacheName);
  try {
    await cache.put(request, response.clone());
  } catch (error) {
    if (!store.isQuotaError(error)) {
      // The reader still gets the response, which is only not kept.
      console.warn(`[bulletin-sw] ${request.url} was not cached`, error);
      return;
    }
    const lost = await store.evict(5);
    notify({ type: Bulletin.MESSAGE.storageFull, lost });
    try { await cache.put(request, response.clone()); } catch { /* reading goes on uncached */ }
  }
}

async function cacheFirst(request, cacheName, options) {
  const cached = await caches.match(request, { cacheName });
  if (cached) return cached;
  const response = await fetch(request);
  if (isStorable(response)) await putSafely(cacheName, request, response, options);
  return response;
}

// Options: maxEntries, the most responses the cache keeps.
async function staleWhileRevalidate(event, cacheName, options) {
  const cached = await caches.match(event.request, { cacheName });
  const refresh = fetch(event.request).then(async (response) => {
    if (isStorable(response)) {
      await putSafely(cacheName, event.request, response, options);
      await trimCache(cacheName, options.maxEntries);
    }
    return response;
  });
  // A failed refresh is answered by the cached copy or, with none, by this
  // same rejection through respondWith: only the worker's lifetime waits here.
  event.waitUntil(refresh.catch(() => undefined));
  return cached || refresh;
}

// Keep at most maxEntries in a cache, dropping the oldest stored first.
async function trimCache(cacheName, maxEntries) {
  const cache = await caches.open(cacheName);
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - maxEntries)).map((key) => cache.delete(key)));
}

// Network first. When the device holds a copy (options.hasCopy), the network
// gets `timeoutMs` before `fallback` answers (a 2G link that hangs must not
// hang the reader), and a late response still refreshes the cache. With no
// copy it waits for the network as long as it takes. `fallback(error,
// network)` resolves with a Response or null (`network` is the request still
// under way, for a caller that wants its late answer); `storable(response)` says what the cache
// may keep (isStorable by default); the cache keeps at most `maxEntries`.
async function networkFirst(event, cacheName, options) {
  const { timeoutMs, maxEntries, hasCopy, fallback, storable = isStorable } = options;
  const request = event.request;
  // Revalidate (a 304 costs a few hundred bytes): the browser's HTTP cache
  // could otherwise answer with a page older than the device's own copy.
  const network = fetch(new Request(request, { cache: "no-cache" })).then(async (response) => {
    if (storable(response)) {
      await putSafely(cacheName, request, response, options);
      await trimCache(cacheName, maxEntries);
    } else if (response.status === 404 || response.status === 410) await (await caches.open(cacheName)).delete(request);
    return response;
  });
  // The worker stays alive until the network has answered or failed; the
  // failure itself is handled below, by `fallback`.
  event.waitUntil(network.then(() => undefined, () => undefined));
  try {
    const response = await (hasCopy ? withTimeout(network, timeoutMs) : network);
    // A failing origin (5xx from a proxy) is no better than no network at all.
    if (response.status >= 500 && hasCopy) throw new Error(`origin answered ${response.status}`);
    return response;
  } catch (error) {
    const answer = await fallback(error, network);
    if (answer) return answer;
    throw error;
  }
}
