// "Readable offline" (/offline, also what the worker answers offline for an
// address it does not hold): the page arrives with empty lists, filled here
// from what this device holds.
"use strict";

(() => {
  const { lang, t, element } = Bulletin; // strings.js

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

  Object.assign(Bulletin, { fillOfflinePage });
})();
