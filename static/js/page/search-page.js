// The search page answered by the service worker: offline, or when the server
// did not answer in time, the worker shows the search page as it is without
// a query. Its results are then found on this device by the search script,
// which only this loads, at the first search (its address is in the page).
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

  async function deviceSearch() {
    const box = document.getElementById("device-search");
    // A query the server answered is in the page already.
    if (!box || box.dataset.query) return;
    // As the server reads it: control characters are spaces, at most 200 characters.
    const asked = new URLSearchParams(location.search).get("q") || "";
    const query = Array.from(asked, (c) => (c < " " || c === "\u007f" ? " " : c)).join("").trim().slice(0, 200);
    if (!query) return;
    const field = document.getElementById("q");
    if (field) field.value = query;
    try {
      loading = loading || loadScript(box.dataset.script);
      await loading;
      await Bulletin.searchOnDevice(box, query);
    } catch (error) {
      loading = null;
      console.warn("[bulletin] the statements on this device could not be searched", error);
      box.replaceChildren(element("p", { role: "alert" }, t("searchFailed")));
    }
  }

  Object.assign(Bulletin, { deviceSearch });
})();
