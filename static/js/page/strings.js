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

  Object.assign(Bulletin, { lang, t, ago, element });
})();
