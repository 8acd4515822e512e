// Bulletin's page script. Pages are complete without it; it adds what only a
// script can: the service worker, the offline banner, "Save for offline",
// the list of what is on this device, update and install prompts.
"use strict";

(() => {
  const lang = document.documentElement.lang || "en";
  const strings = UI_STRINGS; // from the interface catalog, see bulletin/assets.py
  const plurals = new Intl.PluralRules(lang);
  const banner = document.getElementById("offline-banner");
  const status = document.getElementById("app-status");
  const worker = navigator.serviceWorker;
  const { MESSAGE } = Bulletin;
  let updateAccepted = false;

  // A string of the interface catalog, its plural form chosen for vars.num.
  function t(key, vars = {}) {
    let text = strings[key];
    if (typeof text === "object") text = text[plurals.select(vars.num)] || text.other;
    return text.replace(/%\((\w+)\)[sd]/g, (_, name) => String(vars[name]));
  }

  function ago(timestamp) {
    const seconds = Math.round((timestamp - Date.now()) / 1000);
    const format = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
    }
    return format.format(seconds, "second");
  }

  function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    Object.entries(attributes).forEach(([name, value]) => node.setAttribute(name, value));
    node.textContent = text;
    return node;
  }

  // One message at a time in the status line, with an optional button or link.
  function announce(text, action) {
    status.replaceChildren(element("span", {}, text));
    if (action) status.append(" ", action);
    status.hidden = false;
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

  // ------------------------------------------------------------ statements

  function statementRecord(article) {
    const time = article.querySelector("time");
    return {
      id: article.dataset.id,
      revision: article.dataset.revision,
      url: location.pathname,
      title: article.querySelector("h1").textContent,
      lang: article.lang,
      dir: article.dir,
      published: time ? time.dateTime : "",
      article_html: article.outerHTML,
    };
  }

  // Everything the reader opened stays on the device. A record the device
  // already has came from sync, which is authoritative (a page may be an
  // older copy): only its reading time changes.
  async function recordOpened(article) {
    const existing = await OfflineStore.get(article.dataset.id);
    const record = existing
      ? Object.assign({}, existing, { lastRead: Date.now() })
      : Object.assign(statementRecord(article), { lastRead: Date.now(), pinned: false, withdrawn: false });
    await storeRecords([record]);
    return record;
  }

  function announceFullStorage(lost) {
    announce(lost ? `${t("storageFull")} ${t("storageLost", { num: lost })}` : t("storageFull"));
  }

  async function storeRecords(records) {
    const lost = await OfflineStore.putAll(records);
    if (lost) announceFullStorage(lost);
  }

  function saveButton(record) {
    const button = element("button", { type: "button", "aria-pressed": String(record.pinned) });
    const label = () => { button.textContent = record.pinned ? t("unsave") : t("save"); };
    label();
    button.addEventListener("click", async () => {
      record.pinned = !record.pinned;
      await storeRecords([record]);
      button.setAttribute("aria-pressed", String(record.pinned));
      label();
      if (record.pinned) {
        announce(t("savedLabel"));
        if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
      }
    });
    return button;
  }

  async function enhanceStatement() {
    const article = document.querySelector("article.statement[data-id]");
    if (!article) return;
    const record = await recordOpened(article);
    const actions = element("p", { class: "offline-actions" });
    actions.append(saveButton(record));
    article.after(actions);
  }

  // Lists mark what can be read without a connection.
  async function markAvailable() {
    const links = document.querySelectorAll(".statements a[href^='/statements/']");
    if (!links.length) return;
    const readable = new Set((await OfflineStore.all()).filter(OfflineStore.readable).map((r) => r.url));
    links.forEach((link) => {
      const item = link.closest("li");
      if (readable.has(link.getAttribute("href")) && !item.querySelector(".offline-mark")) {
        item.querySelector(".meta").append(" ", element("span", { class: "offline-mark" }, `· ${t("availableOffline")}`));
      }
    });
  }

  // The date exactly as the server wrote it in the statement's own article.
  function writtenDate(record) {
    const parsed = new DOMParser().parseFromString(record.article_html || "", "text/html");
    const time = parsed.querySelector("time");
    return time ? time.textContent : "";
  }

  function listItem(record) {
    const item = element("li");
    const heading = element("h2", { lang: record.lang || lang, dir: record.dir || "auto" });
    heading.append(element("a", { href: record.url }, record.title));
    const meta = element("p", { class: "meta" }, record.withdrawn ? t("withdrawn") : writtenDate(record));
    item.append(heading, meta);
    return item;
  }

  function fillList(list, records, emptyText) {
    list.replaceChildren(...records.map(listItem));
    if (!records.length) list.replaceChildren(element("li", {}, emptyText));
  }

  async function fillOfflinePage() {
    const all = document.getElementById("offline-statements");
    if (!all) return;
    const records = (await OfflineStore.all()).filter((r) => r.article_html).sort(OfflineStore.newestFirst);
    fillList(all, records, t("nothingOffline"));
    fillList(document.getElementById("saved-statements"), records.filter((r) => r.pinned), t("noneSaved"));
  }

  // ------------------------------------------------------------ worker

  function offerUpdate(waiting) {
    const button = element("button", { type: "button" }, t("reload"));
    button.addEventListener("click", () => {
      updateAccepted = true;
      waiting.postMessage({ type: MESSAGE.skipWaiting });
    });
    announce(t("updateAvailable"), button);
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
        requestSync(true);
      }, Math.min(1000 * 2 ** rechecks++, 60000));
    }
  }

  function onWorkerMessage(event) {
    const message = event.data || {};
    if (message.type === MESSAGE.synced) {
      if (message.first) announce(t("ready"));
      else if (message.fresh > 0) announce(t("newCount", { num: message.fresh }), element("a", { href: "/" }, t("show")));
      markAvailable();
      fillOfflinePage();
    } else if (message.type === MESSAGE.network) {
      onNetworkWord(message);
    } else if (message.type === MESSAGE.storageFull) {
      announceFullStorage(message.lost);
    }
  }

  function requestSync(check = false) {
    if (navigator.onLine && worker.controller) worker.controller.postMessage({ type: MESSAGE.sync, lite: Bulletin.liteMode(), check });
  }

  async function registerPeriodicSync(registration) {
    if (!("periodicSync" in registration) || !navigator.permissions) return;
    try {
      const permission = await navigator.permissions.query({ name: "periodic-background-sync" });
      if (permission.state === "granted") {
        await registration.periodicSync.register(Bulletin.SYNC_TAG, { minInterval: 6 * 3600 * 1000 });
      }
    } catch { /* not offered by this browser: syncing on visits is enough */ }
  }

  async function startWorker() {
    worker.addEventListener("message", onWorkerMessage);
    worker.addEventListener("controllerchange", () => {
      if (updateAccepted) location.reload();
      else requestSync(); // the first worker just took control
    });
    const registration = await worker.register("/sw.js");
    if (registration.waiting && worker.controller) offerUpdate(registration.waiting);
    registration.addEventListener("updatefound", () => {
      const installing = registration.installing;
      installing.addEventListener("statechange", () => {
        if (installing.state === "installed" && worker.controller) offerUpdate(installing);
      });
    });
    if (worker.controller) {
      worker.controller.postMessage({ type: MESSAGE.status });
      requestSync();
    }
    registerPeriodicSync(registration);
  }

  // ------------------------------------------------------------ install

  function offerInstall() {
    let deferred = null;
    window.addEventListener("beforeinstallprompt", (event) => {
      event.preventDefault();
      deferred = event;
      const button = element("button", { type: "button" }, t("install"));
      button.addEventListener("click", () => { deferred.prompt(); status.hidden = true; });
      announce("", button);
    });
    window.addEventListener("appinstalled", () => {
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
    });
    const ios = /iphone|ipad|ipod/i.test(navigator.userAgent) && !navigator.standalone;
    if (ios && !localStorage.getItem("bulletin-ios-hint")) {
      localStorage.setItem("bulletin-ios-hint", "1");
      announce(t("iosHint"));
    }
    if (matchMedia("(display-mode: standalone)").matches && navigator.storage && navigator.storage.persist) {
      navigator.storage.persist();
    }
  }

  // ------------------------------------------------------------ start

  window.addEventListener("offline", showOffline);
  window.addEventListener("online", () => { hideOffline(); requestSync(); });
  if (!navigator.onLine) showOffline();
  offerInstall();
  if (typeof indexedDB !== "undefined") {
    enhanceStatement().catch(() => undefined).then(markAvailable).then(fillOfflinePage).catch(() => undefined);
  }
  // The worker and its first sync wait for `load`: the page comes first.
  if (worker) {
    if (document.readyState === "complete") startWorker();
    else window.addEventListener("load", startWorker);
  }
})();
