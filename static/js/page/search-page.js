// The search page the service worker answered (offline, or the server too
// slow) holds no results: the device searches, with the search script
// (static/js/search/) loaded only now. Its address is in the page.
"use strict";

(() => {
  const { t, element } = Bulletin; // strings.js

  function deviceSearch() {
    const box = document.getElementById("device-search");
    // A query the server answered is in the page already.
    if (!box || box.dataset.query || !new URLSearchParams(location.search).get("q")) return;
    performance.mark("bulletin-search-start"); // read by the search script's timing
    const script = element("script", { src: box.dataset.script });
    script.onerror = () => box.replaceChildren(element("p", { role: "alert" }, t("searchFailed")));
    document.head.append(script);
  }

  Object.assign(Bulletin, { deviceSearch });
})();
