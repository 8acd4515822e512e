// "Readable offline" (/offline, also what the worker answers offline for an
// address it does not hold): the page arrives with empty lists, filled here
// from what this device holds; under another address it first says what that
// address is and that it needs a connection.
"use strict";

(() => {
  const { lang, element } = Bulletin; // strings.js

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
    const meta = element("p", { class: "meta" }, record.withdrawn ? withdrawnText : writtenDate(record));
    item.append(heading, meta);
    return item;
  }

  // The page's own words (in its lists' data-) say what an empty list or a withdrawn statement is.
  let withdrawnText = "";

  function fillList(list, records) {
    list.replaceChildren(...records.map(listItem));
    if (!records.length) list.replaceChildren(element("li", {}, list.dataset.empty));
  }

  function addressShown() {
    try {
      return decodeURI(location.pathname);
    } catch {
      return location.pathname; // a malformed escape is shown as it was typed
    }
  }

  // What the address the reader asked for is: which of the page's sentences
  // (all saying it needs a connection) applies, and what goes in its slot.
  function whatItIs(pathname) {
    if (/^(\/[a-z]{2})?(\/tags\/[^/]+)?\/feed\.atom$/.test(Bulletin.local(pathname))) return ["feed"];
    const list = Bulletin.listRoute(pathname);
    if (list && list.tag !== null) return ["tag", list.tag];
    if (list) return ["list"];
    if (Bulletin.isStatementPath(pathname)) return ["statement"];
    return ["page", addressShown()];
  }

  function explainAddress() {
    const intro = document.getElementById("offline-intro");
    const sentences = document.getElementById("offline-reasons");
    if (!intro || !sentences || document.getElementById("offline-reason")) return;
    if (/^(\/[a-z]{2})?\/offline\/$/.test(Bulletin.local(location.pathname))) return;
    const sentence = (name) => sentences.content.querySelector(`[data-for="${name}"]`).cloneNode(true).childNodes;
    const [kind, slotText] = whatItIs(location.pathname);
    const reason = element("p", { id: "offline-reason" });
    const what = element("strong");
    what.append(...sentence(kind));
    reason.append(what, " ", ...sentence("below"));
    const slot = reason.querySelector(".slot");
    if (slot) slot.replaceWith(slotText);
    intro.before(reason);
  }

  async function fillOfflinePage() {
    const all = document.getElementById("offline-statements");
    if (!all) return;
    explainAddress();
    const records = (await OfflineStore.all()).filter((r) => r.article_html).sort(OfflineStore.newestFirst);
    withdrawnText = all.dataset.withdrawn;
    fillList(all, records);
    fillList(document.getElementById("saved-statements"), records.filter((r) => r.pinned));
  }

  Object.assign(Bulletin, { fillOfflinePage });
  // After the page script (loaded before this one) has marked what is on the device.
  (Bulletin.pageReady || Promise.resolve())
    .then(fillOfflinePage)
    .catch((error) => console.warn("[bulletin] the statements on this device could not be listed", error));
})();
