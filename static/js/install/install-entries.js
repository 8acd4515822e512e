// Installing to the home screen, the entries themselves: loaded by the page
// script's install.js only when there is something to offer (the browser's
// \`beforeinstallprompt\`, or an iPhone), so no other visit pays for it. A
// lasting "Install app" entry in the footer and, until the reader says "Not
// now" (remembered on the device), a card above the footer saying what
// installing gives; both in the page's flow, covering nothing. iPhones have
// no prompt: their steps are a disclosure the reader opens, never flashed.
"use strict";

(() => {
  const { t, element, persistStorage, clearInstallEntries } = Bulletin; // strings.js, page/install.js
  const NOT_NOW = "bulletin-install-not-now";
  const footer = document.querySelector("footer.site");

  // localStorage may be blocked: "Not now" is then not remembered, which is harmless.
  function notNow(say) {
    try {
      return say ? localStorage.setItem(NOT_NOW, "1") : localStorage.getItem(NOT_NOW);
    } catch {
      return null;
    }
  }

  function entry(tag, cls) {
    return element(tag, { class: cls, "data-install": "" });
  }

  function offerPrompt(deferred) {
    clearInstallEntries(); // a later event (after a dismissed prompt) replaces the earlier one's entries
    const button = (text, cls = "") => {
      const node = element("button", { type: "button", class: cls }, text);
      node.addEventListener("click", async () => {
        clearInstallEntries(); // a prompt shows once; the browser sends another event when it may again
        deferred.prompt();
        if ((await deferred.userChoice).outcome === "accepted") persistStorage();
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

  function offerIosSteps() {
    const steps = entry("details", "install");
    steps.append(element("summary", {}, t("iosInstall")), element("p", {}, `${t("installWhy")} ${t("iosSteps")}`));
    footer.before(steps);
  }

  Object.assign(Bulletin, { offerPrompt, offerIosSteps });
})();
