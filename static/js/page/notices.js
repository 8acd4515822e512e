// What the page tells the reader: one message at a time in the status line,
// the one-line offline notice, and the mark of a saved copy shown because
// the network stalled. (Where they sit, never over the page's end, is the
// stylesheet's.) The offline notice believes the device's own "offline" at
// once, but a worker's "offline" while the device says it is online only as
// the answer to a check.
"use strict";

(() => {
  const { t, ago, element } = Bulletin; // strings.js
  const banner = document.getElementById("offline-banner");
  const status = document.getElementById("app-status");
  const FLEETING_MS = 6000; // how long a message that needs nothing of the reader stays
  const STALE_MS = 2 * 3600 * 1000; // a signed index older than this is said on the offline line
  const COLLAPSED_KEY = "bulletin-offline-collapsed";
  let statusTimer = 0;

  // One message at a time in the status line, with an optional button or
  // link; a fleeting one goes away by itself.
  function announce(text, action, { fleeting = false } = {}) {
    clearTimeout(statusTimer);
    status.replaceChildren(element("span", {}, text));
    delete status.dataset.refused; // announceRefused's, for its message only
    if (action) status.append(" ", action);
    status.hidden = false;
    if (fleeting) statusTimer = setTimeout(hideStatus, FLEETING_MS);
  }

  function hideStatus() {
    clearTimeout(statusTimer);
    status.hidden = true;
  }

  function announceFullStorage(lost) {
    announce(lost ? `${t("storageFull")} ${t("storageLost", { num: lost })}` : t("storageFull"));
  }

  // ------------------------------------------------------------ offline line

  // The reader's choice is kept on the device; where storage is refused the
  // line shows expanded on each page, the safe side.
  function isCollapsed() {
    try {
      return localStorage.getItem(COLLAPSED_KEY) === "1";
    } catch {
      return false;
    }
  }

  let bannerText = "";

  function renderBanner() {
    const collapsed = isCollapsed();
    const toggle = element(
      "button",
      { type: "button", "aria-expanded": String(!collapsed) },
      collapsed ? t("offlineShort") : t("hideNotice"),
    );
    toggle.addEventListener("click", () => {
      try {
        localStorage.setItem(COLLAPSED_KEY, collapsed ? "" : "1");
      } catch {
        // not remembered: this page still follows the reader
      }
      renderBanner();
      banner.querySelector("button").focus();
    });
    banner.classList.toggle("collapsed", collapsed);
    if (collapsed) banner.replaceChildren(toggle);
    else banner.replaceChildren(element("span", { class: "banner-text" }, bannerText), toggle);
  }

  // The newest signed_at the device verified, as a time (ms); null before any.
  async function latestSigned() {
    const state = await OfflineStore.getMeta(Bulletin.VERIFIER_META);
    return state && state.trustedTime ? Date.parse(state.trustedTime) : null;
  }

  async function describeDevice() {
    try {
      const { count } = await OfflineStore.summary();
      const line = count ? t("offlineLine", { num: count }) : t("offlineNone");
      // How old what the device holds is, by the publisher's signature: an index is signed
      // again every hour, so one older than two is a frozen source or a long time offline.
      const signed = await latestSigned();
      return signed === null || Date.now() - signed < STALE_MS ? line : `${line} ${t("latestSigned", { ago: ago(signed) })}`;
    } catch {
      return t("offlineNone"); // storage unavailable (private mode, blocked)
    }
  }

  // A sync refused what it could not verify: said in plain words, the reason
  // codes (verify.js) kept on the status line for whoever looks closer.
  function announceRefused(reasons) {
    announce(t("refused", { num: Object.values(reasons).reduce((sum, n) => sum + n, 0) }));
    status.dataset.refused = Object.keys(reasons).sort().join(" ");
  }

  // Where the last sync came from, when it was a mirror (the origin did not
  // answer, or not with what verifies): said plainly, as where the news came
  // from; nothing about the reader's device, which did its work.
  function announceSource(source) {
    if (!source || !source.mirror || !source.total) return false;
    announce(t("viaMirror", { ago: ago(source.at || Date.now()), n: source.n, total: source.total }));
    return true;
  }

  // On a page's start: the word of the last sync, when a mirror served it.
  async function showSource() {
    try {
      announceSource(await OfflineStore.getMeta(Bulletin.SOURCE_META));
    } catch {
      // storage unavailable: nothing to say
    }
  }

  let offline = false; // the latest word: an "online" may arrive while the text is composed

  async function showOffline() {
    offline = true;
    const text = await describeDevice();
    if (!offline) return;
    bannerText = text;
    renderBanner();
    banner.hidden = false;
  }

  function hideOffline() {
    offline = false;
    banner.hidden = true;
  }

  // The worker's "offline" is the word of one failed request, which may be
  // older than the page's own "online" event, or a blip as a connection comes
  // back. While the device says it is online, the page has the worker try
  // again and believes only the answer to that check; it keeps checking, less
  // and less often, while the answer stays "offline" (the server may return).
  let recheckTimer = 0;
  let rechecks = 0;

  function onNetworkWord(message) {
    if (!navigator.onLine) return showOffline();
    if (message.online) {
      clearTimeout(recheckTimer);
      recheckTimer = rechecks = 0;
      return hideOffline();
    }
    if (message.checked) showOffline();
    if (!recheckTimer) {
      recheckTimer = setTimeout(() => {
        recheckTimer = 0;
        Bulletin.requestSync(true); // worker-client.js, later in the bundle
      }, Math.min(1000 * 2 ** rechecks++, 60000));
    }
  }

  // ------------------------------------------------------------ saved copy

  // When the network stalled, the worker answered with the device's copy and
  // marked the page with the copy's time (service_worker/sw.js). Null when
  // the page came from the network.
  function savedCopyTime() {
    const meta = document.querySelector('meta[name="bulletin-saved-copy"]');
    return meta ? Number(meta.content) || Date.now() : null;
  }

  function showSavedCopy() {
    const savedAt = savedCopyTime();
    if (savedAt !== null) announce(t("savedCopyChecking", { ago: ago(savedAt) }));
    return savedAt !== null;
  }

  // The worker's word on the network's late answer: a newer version to show,
  // the copy is current, or no answer after all.
  function onFreshness(message) {
    const savedAt = savedCopyTime();
    if (savedAt === null || message.path !== location.pathname) return;
    if (message.state === "current") return announce(t("isCurrent"), null, { fleeting: true });
    if (message.state !== "newer") return announce(t("savedCopy", { ago: ago(savedAt) }));
    const button = element("button", { type: "button" }, t("showNewer"));
    button.addEventListener("click", () => location.reload()); // the worker has stored the newer page
    announce(t("savedCopy", { ago: ago(savedAt) }), button);
  }

  Object.assign(Bulletin, {
    announce, hideStatus, announceFullStorage, announceRefused, announceSource, showSource, showOffline, hideOffline, onNetworkWord, showSavedCopy, onFreshness,
  });
})();
