// The words the page script writes: strings of the interface catalog
// (UI_STRINGS, built into the bundle by `prepare`) in their plural forms,
// relative times, and the elements that hold them.
"use strict";

(() => {
  const lang = document.documentElement.lang || "en";
  const strings = UI_STRINGS; // from the interface catalog, see bulletin/assets/bundles.py
  const plurals = new Intl.PluralRules(lang);

  // A string of the interface catalog, its plural form chosen for vars.num.
  function t(key, vars = {}) {
    let text = strings[key];
    if (typeof text === "object") text = text[plurals.select(vars.num)] || text.other;
    return text.replace(/%\((\w+)\)[sd]/g, (_, name) => String(vars[name]));
  }

  // "3 days ago": a time in the past in the interface's words and plurals.
  function ago(timestamp) {
    const minutes = Math.round((Date.now() - timestamp) / 60000);
    if (minutes < 1) return t("justNow");
    if (minutes < 60) return t("minutesAgo", { num: minutes });
    const hours = Math.round(minutes / 60);
    if (hours < 24) return t("hoursAgo", { num: hours });
    return t("daysAgo", { num: Math.round(hours / 24) });
  }

  function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    Object.entries(attributes).forEach(([name, value]) => node.setAttribute(name, value));
    node.textContent = text;
    return node;
  }

  Object.assign(Bulletin, { lang, t, ago, element });
})();
