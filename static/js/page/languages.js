// The reader's interface language. The URL decides a page's language (so
// each page is one cacheable file); the reader's choice, made with the
// picker at the foot of every page, is kept on this device and steers the
// home page "/", the installed app's start page (its manifest), the links of
// statement pages (which speak their statement's language). (The worker
// hears the page's language with each status and sync request.)
"use strict";

(() => {
  const { lang } = Bulletin; // strings.js
  const KEY = "bulletin-lang";

  function startLanguages() {
    const picker = document.querySelector("nav.languages");
    if (!picker) return;
    const links = [...picker.querySelectorAll("a[lang]")];
    // Each interface language's path prefix (the site's ROOT, then "/ru" but for the default language).
    const { ROOT } = Bulletin;
    const prefix = {};
    links.forEach((link) => {
      prefix[link.lang] = ROOT + (link.pathname.startsWith(`${ROOT}/${link.lang}/`) ? `/${link.lang}` : "");
    });
    let chosen = null;
    try {
      chosen = localStorage.getItem(KEY);
      picker.addEventListener("click", (event) => {
        const link = event.target.closest("a[lang]");
        if (link) localStorage.setItem(KEY, link.lang);
      });
    } catch (error) {
      console.warn("[bulletin] the interface language cannot be remembered here", error);
    }
    if (!(chosen in prefix)) chosen = null;
    // The server leaves queries out of the picker's links (a kept page serves
    // every reader); a search's words are the reader's own, added here.
    if (/\/search\/$/.test(location.pathname)) links.forEach((link) => { link.search = location.search; });
    // The default language's home sends the reader on to their choice, or,
    // before any choice, to the first of the browser's languages offered.
    const wanted = chosen || (navigator.languages || []).map((tag) => tag.slice(0, 2)).find((code) => code in prefix);
    if (location.pathname === `${ROOT}/` && wanted && wanted !== lang) {
      location.replace(`${prefix[wanted]}/${location.search}`);
      return;
    }
    if (chosen) {
      document.querySelector('link[rel="manifest"]').href = `${prefix[chosen]}/manifest.webmanifest`;
      if (chosen !== lang && Bulletin.isStatementPath(location.pathname)) {
        const home = prefix[chosen];
        document.querySelector("a.brand").href = `${home}/`;
        document.querySelector("form.search").action = `${home}/search/`;
        document.querySelector('footer a[href$="/offline/"]').href = `${home}/offline/`;
      }
    }
  }

  Object.assign(Bulletin, { startLanguages });
})();
