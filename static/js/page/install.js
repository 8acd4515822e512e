// Installing to the home screen. Where the browser offers it
// (`beforeinstallprompt`), a lasting "Install app" entry in the footer and,
// until the reader says "Not now" (remembered on the device), a card above
// the footer saying what installing gives; both in the page's flow, covering
// nothing. iPhones have no prompt: their steps are a disclosure the reader
// opens, never flashed. Persistent storage is asked for once installed.
"use strict";

(() => {
  const { t, element } = Bulletin; // strings.js
  const NOT_NOW = "bulletin-install-not-now";
  const footer = document.querySelector("footer.site");

  function persist() {
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
  }

  // localStorage may be blocked: "Not now" is then not remembered, which is harmless.
  function notNow(say) {
    try {
      return say ? localStorage.setItem(NOT_NOW, "1") : localStorage.getItem(NOT_NOW);
    } catch {
      return null;
    }
  }

  function clear() {
    document.querySelectorAll("[data-install]").forEach((node) => node.remove());
  }

  function entry(tag, cls) {
    return element(tag, { class: cls, "data-install": "" });
  }

  function offerPrompt(deferred) {
    clear(); // a later event (after a dismissed prompt) replaces the earlier one's entries
    const button = (text, cls = "") => {
      const node = element("button", { type: "button", class: cls }, text);
      node.addEventListener("click", async () => {
        clear(); // a prompt shows once; the browser sends another event when it may again
        deferred.prompt();
        if ((await deferred.userChoice).outcome === "accepted") persist();
      });
      return node;
    };
    const lasting = entry("span", "");
    lasting.append(" · ", button(t("install"), "quiet"));
    footer.append(lasting);
    if (notNow()) return;
    const card = entry("div", "install");
    const later = element("button", { type: "button", class: "quiet" }, t("notNow"));
    later.addEventListener("click", () => {
      notNow(true);
      card.remove();
      lasting.lastChild.focus(); // where the reader can still install later
    });
    card.append(element("p", {}, t("installWhy")), button(t("install")), later);
    footer.before(card);
  }

  function offerInstall() {
    if (matchMedia("(display-mode: standalone)").matches || navigator.standalone) return persist();
    if (!footer) return;
    window.addEventListener("beforeinstallprompt", (event) => {
      event.preventDefault();
      offerPrompt(event);
    });
    window.addEventListener("appinstalled", () => {
      clear();
      persist();
    });
    // iPads since iPadOS 13 say they are Macs; a Mac with a touch screen is one.
    if (/iphone|ipad|ipod/i.test(navigator.userAgent) || (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1)) {
      const steps = entry("details", "install");
      steps.append(element("summary", {}, t("iosInstall")), element("p", {}, `${t("installWhy")} ${t("iosSteps")}`));
      footer.before(steps);
    }
  }

  Object.assign(Bulletin, { offerInstall });
})();
