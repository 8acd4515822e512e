// The search script's start, last of its files: searches the device for the
// query in the page's address, and, while the device stays offline, for
// every later query of the same search box, in the page.
"use strict";

(() => {
  const { t, element, searchOnDevice } = Bulletin; // strings.js, device-search.js
  const box = document.getElementById("device-search");
  const form = document.querySelector("form.search");
  const field = document.getElementById("q");

  // The query as the server reads it: control characters are spaces, at most 200 characters.
  function queryOf(text) {
    return Array.from(text || "", (c) => (c < " " || c === "\u007f" ? " " : c)).join("").trim().slice(0, 200);
  }

  // How long a search takes, as bench/offline_search.py reads it (User Timing
  // "bulletin-search"); the first one from when the page asked for this script.
  async function searchHere(query, start = performance.now()) {
    if (field) field.value = query;
    try {
      await searchOnDevice(box, query);
      performance.measure("bulletin-search", { start });
    } catch (error) {
      console.warn("[bulletin] the statements on this device could not be searched", error);
      box.replaceChildren(element("p", { role: "alert" }, t("searchFailed")));
    }
  }

  if (form) {
    form.addEventListener("submit", (event) => {
      const query = queryOf(new FormData(form).get("q"));
      if (navigator.onLine || !query) return; // online, the server may answer again
      event.preventDefault();
      history.pushState(null, "", `${location.pathname}?q=${encodeURIComponent(query)}`);
      searchHere(query);
    });
  }
  window.addEventListener("popstate", () => {
    const query = queryOf(new URLSearchParams(location.search).get("q"));
    if (query) searchHere(query);
  });

  const asked = queryOf(new URLSearchParams(location.search).get("q"));
  const mark = performance.getEntriesByName("bulletin-search-start")[0];
  if (asked) searchHere(asked, mark ? mark.startTime : performance.now());
})();
