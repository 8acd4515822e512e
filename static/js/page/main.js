// Bulletin's page script starts here, the last file of the bundle. Pages are
// complete without it; it adds what only a script can: the service worker,
// the offline banner, "Save for offline", the list of what is on this
// device, update and install prompts. Each concern is a file of static/js/page/.
"use strict";

(() => {
  const {
    showOffline, hideOffline, showSavedCopy, requestSync, offerInstall, enhanceStatement, markAvailable, deviceSearch,
    startWorker,
  } = Bulletin;
  const { enhanceShare } = Bulletin; // share.js

  Bulletin.startLanguages();

  window.addEventListener("offline", showOffline);
  window.addEventListener("online", () => { hideOffline(); requestSync(); });
  if (!navigator.onLine) showOffline();
  // Before anything else: the reader must know at once what they are reading.
  const savedCopy = showSavedCopy();
  // Else where the last sync came from, when it was a mirror.
  if (!savedCopy && typeof indexedDB !== "undefined") Bulletin.showSource();
  offerInstall();
  enhanceShare();
  if (typeof indexedDB !== "undefined") {
    // Storage refused (a private window, a blocked site) or failing: the page
    // reads on without these additions, and the console says why. A statement
    // not recorded still leaves the lists to mark and fill.
    // The offline page's own script (static/js/offline/) fills its lists once this is done.
    Bulletin.pageReady = enhanceStatement()
      .catch((error) => console.warn("[bulletin] this statement was not kept on the device", error))
      .then(markAvailable);
    deviceSearch();
  }
  // The worker and its first sync wait for `load`: the page comes first.
  if (navigator.serviceWorker) {
    const start = () => startWorker({ savedCopy });
    if (document.readyState === "complete") start();
    else window.addEventListener("load", start);
  }
})();
