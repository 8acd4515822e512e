// The page's side of the service worker: registration, the update offer,
// the worker's messages, and the syncs the page asks for (on every visit,
// when the connection comes back, periodically where the browser offers it).
"use strict";

(() => {
  const {
    MESSAGE, t, element, announce, announceFullStorage, announceRefused, announceSource, onNetworkWord, onFreshness, markAvailable,
  } = Bulletin; // shared.js, strings.js, notices.js, statements.js
  const worker = navigator.serviceWorker;
  let updateAccepted = false;

  function offerUpdate(waiting) {
    const button = element("button", { type: "button" }, t("reload"));
    button.addEventListener("click", () => {
      updateAccepted = true;
      waiting.postMessage({ type: MESSAGE.skipWaiting });
    });
    announce(t("updateAvailable"), button);
  }

  function onWorkerMessage(event) {
    const message = event.data || {};
    if (message.type === MESSAGE.synced) {
      if (announceSource(message.via)) {
        // served by a mirror: said with where it came from (the new statements are in the lists)
      } else if (message.first) announce(t("ready"), null, { fleeting: true });
      else if (message.fresh > 0) announce(t("newCount", { num: message.fresh }), element("a", { href: `${Bulletin.ROOT}/` }, t("show")));
      markAvailable();
      if (Bulletin.fillOfflinePage) Bulletin.fillOfflinePage(); // on the offline page only
    } else if (message.type === MESSAGE.network) {
      onNetworkWord(message);
    } else if (message.type === MESSAGE.freshness) {
      onFreshness(message);
    } else if (message.type === MESSAGE.storageFull) {
      announceFullStorage(message.lost);
    } else if (message.type === MESSAGE.refused) {
      announceRefused(message.reasons || {});
    }
  }

  function requestSync(check = false) {
    if (navigator.onLine && worker && worker.controller) worker.controller.postMessage({ type: MESSAGE.sync, lite: Bulletin.liteMode(), check, lang: Bulletin.lang });
  }

  async function registerPeriodicSync(registration) {
    if (!("periodicSync" in registration) || !navigator.permissions) return;
    try {
      const permission = await navigator.permissions.query({ name: "periodic-background-sync" });
      if (permission.state === "granted") {
        await registration.periodicSync.register(Bulletin.SYNC_TAG, { minInterval: 6 * 3600 * 1000 });
      }
    } catch (error) {
      // Syncing on every visit goes on without it.
      console.warn("[bulletin] periodic sync was not registered", error);
    }
  }

  // `savedCopy`: the worker answered this page with the device's copy on a
  // stalled link; it is asked what the network's late answer was.
  async function startWorker({ savedCopy = false } = {}) {
    worker.addEventListener("message", onWorkerMessage);
    worker.addEventListener("controllerchange", () => {
      if (updateAccepted) location.reload();
      else requestSync(); // the first worker just took control
    });
    const registration = await worker.register(`${Bulletin.ROOT}/sw.js`);
    if (registration.waiting && worker.controller) offerUpdate(registration.waiting);
    registration.addEventListener("updatefound", () => {
      const installing = registration.installing;
      installing.addEventListener("statechange", () => {
        if (installing.state === "installed" && worker.controller) offerUpdate(installing);
      });
    });
    if (worker.controller) {
      if (savedCopy) worker.controller.postMessage({ type: MESSAGE.freshness, path: location.pathname });
      worker.controller.postMessage({ type: MESSAGE.status, lang: Bulletin.lang });
      requestSync();
    }
    registerPeriodicSync(registration);
  }

  Object.assign(Bulletin, { requestSync, startWorker });
})();
