// Bulletin's page script starts here, the last file of the bundle. Pages are
// complete without it; it adds what only a script can: the service worker,
// the offline banner, "Save for offline", the list of what is on this
// device, update and install prompts. Each concern is a file of static/js/page/.
"use strict";

(() => {
  const { showOffline, hideOffline, requestSync, offerInstall, enhanceStatement, markAvailable, fillOfflinePage, startWorker } =
    Bulletin;

  window.addEventListener("offline", showOffline);
  window.addEventListener("online", () => { hideOffline(); requestSync(); });
  if (!navigator.onLine) showOffline();
  offerInstall();
  if (typeof indexedDB !== "undefined") {
    enhanceStatement().catch(() => undefined).then(markAvailable).then(fillOfflinePage).catch(() => undefined);
  }
  // The worker and its first sync wait for `load`: the page comes first.
  if (navigator.serviceWorker) {
    if (document.readyState === "complete") startWorker();
    else window.addEventListener("load", startWorker);
  }
})();
