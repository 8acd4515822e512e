// Statements on this device, from the page's side: every statement page the
// reader opens is recorded and gets a "Save for offline" button, and lists
// mark what can be read without a connection.
"use strict";

(() => {
  const { t, element, announce, announceFullStorage } = Bulletin; // strings.js, notices.js

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
        announce(t("savedLabel"), null, { fleeting: true });
        if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
      }
    });
    return button;
  }

  async function enhanceStatement() {
    const article = document.querySelector("article.statement[data-id]");
    // An article elsewhere (a draft previewed under /editor/) is not public:
    // stored, it would sit among the statements readable offline.
    if (!article || !Bulletin.isStatementPath(location.pathname)) return;
    const record = await recordOpened(article);
    const actions = element("p", { class: "offline-actions" });
    actions.append(saveButton(record));
    article.after(actions);
  }

  // Lists mark what can be read without a connection.
  async function markAvailable() {
    const links = document.querySelectorAll(`.statements a[href^='${Bulletin.ROOT}/statements/']`);
    if (!links.length) return;
    const readable = new Set((await OfflineStore.all()).filter(OfflineStore.readable).map((r) => r.url));
    links.forEach((link) => {
      const item = link.closest("li");
      if (readable.has(link.getAttribute("href")) && !item.querySelector(".offline-mark")) {
        item.querySelector(".meta").append(" ", element("span", { class: "offline-mark" }, `· ${t("availableOffline")}`));
      }
    });
  }

  Object.assign(Bulletin, { enhanceStatement, markAvailable });
})();
