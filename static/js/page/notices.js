// What the page tells the reader: one message at a time in the status line,
// and the offline banner with what this device holds. The banner believes
// the device's own "offline" at once, but a worker's "offline" while the
// device says it is online only as the answer to a check.
"use strict";

(() => {
  const { t, ago, element } = Bulletin; // strings.js
  const banner = document.getElementById("offline-banner");
  const status = document.getElementById("app-status");

  // One message at a time in the status line, with an optional button or link.
  function announce(text, action) {
    status.replaceChildren(element("span", {}, text));
    if (action) status.append(" ", action);
    status.hidden = false;
  }

  function hideStatus() {
    status.hidden = true;
  }

  function announceFullStorage(lost) {
    announce(lost ? `${t("storageFull")} ${t("storageLost", { num: lost })}` : t("storageFull"));
  }

  // ------------------------------------------------------------ offline banner

  async function describeDevice() {
    try {
      const { count, lastSync } = await OfflineStore.summary();
      if (!count) return t("savedNone");
      if (!lastSync) return t("savedCount", { num: count });
      return t("savedCountUpdated", { num: count, ago: ago(lastSync) });
    } catch {
      return t("savedNone"); // storage unavailable (private mode, blocked)
    }
  }

  let offline = false; // the latest word: an "online" may arrive while the text is composed

  async function showOffline() {
    offline = true;
    const text = `${t("offline")} ${await describeDevice()}`;
    if (!offline) return;
    banner.textContent = text;
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

  Object.assign(Bulletin, { announce, hideStatus, announceFullStorage, showOffline, hideOffline, onNetworkWord });
})();
