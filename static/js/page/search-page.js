// The search page answered by the service worker: offline, or when the server
// did not answer in time, the worker shows the search page as it is without
// a query. Its results are then found on this device by the search script,
// which only this loads, at the first search (its address is in the page).
// While the device stays offline, the same box searches again in the page.
"use strict";

(() => {
  const { t, element } = Bulletin; // strings.js
  let loading = null;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = element("script", { src });
      script.onload = resolve;
      script.onerror = () => reject(new Error(`${src} did not load`));
      document.head.append(script);
    });
  }

  // The query as the server reads it: control characters are spaces, at most 200 characters.
  function queryOf(text) {
    return Array.from(text || "", (c) => (c < " " || c === "\u007f" ? " " : c)).join("").trim().slice(0, 200);
  }

  async function searchHere(box, query) {
    const field = document.getElementById("q");
    if (field) field.value = query;
    // How long a search on the device takes, as bench/offline_search.py reads it (User Timing).
    const started = performance.now();
    try {
      loading = loading || loadScript(box.dataset.script);
      await loading;
      await Bulletin.searchOnDevice(box, query);
      performance.measure("bulletin-search", { start: started });
    } catch (error) {
      loading = null;
      console.warn("[bulletin] the statements on this device could not be searched", error);
      box.replaceChildren(element("p", { role: "alert" }, t("searchFailed")));
    }
  }

  // Offline, the search box stays on this page: no round trip through the worker.
  function keepSearchingHere(box) {
    const form = document.querySelector("form.search");
    if (!form) return;
    form.addEventListener("submit", (event) => {
      const query = queryOf(new FormData(form).get("q"));
      if (navigator.onLine || !query) return; // online, the server may answer again
      event.preventDefault();
      history.pushState(null, "", `${location.pathname}?q=${encodeURIComponent(query)}`);
      searchHere(box, query);
    });
    window.addEventListener("popstate", () => {
      const query = queryOf(new URLSearchParams(location.search).get("q"));
      if (query) searchHere(box, query);
    });
  }

  async function deviceSearch() {
    const box = document.getElementById("device-search");
    // A query the server answered is in the page already.
    if (!box || box.dataset.query) return;
    const query = queryOf(new URLSearchParams(location.search).get("q"));
    if (!query) return;
    keepSearchingHere(box);
    await searchHere(box, query);
  }

  Object.assign(Bulletin, { deviceSearch });
})();
