// The kill switch (BULLETIN_SW_KILL_SWITCH=1): replaces any installed Bulletin
// worker, deletes Bulletin's caches and stored statements, unregisters itself
// and reloads open pages, which then come straight from the network.
"use strict";

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith(Bulletin.CACHE_PREFIX)).map((name) => caches.delete(name)));
    await new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(Bulletin.DB_NAME);
      request.onsuccess = () => resolve();
      // Open pages hold the database: the deletion waits until they close it
      // (offline-store.js closes on versionchange), and the worker goes on.
      request.onblocked = () => resolve();
      // The worker must still unregister: the statements are stale, not harmful.
      request.onerror = () => {
        console.warn("[bulletin-sw] stored statements were not deleted", request.error);
        resolve();
      };
    });
    await self.registration.unregister();
    const clients = await self.clients.matchAll({ type: "window" });
    clients.forEach((client) => client.navigate(client.url));
  })());
});
