// Installing to the home screen: where the browser offers it
// (\`beforeinstallprompt\`) or on an iPhone, the entries are built by the
// install script (static/js/install/), fetched only then; persistent storage
// is asked for once installed.
"use strict";

(() => {
  const { element } = Bulletin; // strings.js
  const footer = document.querySelector("footer.site");
  let loading = null;

  function persistStorage() {
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
  }

  function clearInstallEntries() {
    document.querySelectorAll("[data-install]").forEach((node) => node.remove());
  }

  // The install script, once, then \`then\` with what it adds to Bulletin.
  function withEntries(then) {
    loading = loading || new Promise((resolve, reject) => {
      const script = element("script", { src: footer.dataset.installScript });
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
    loading.then(() => then(Bulletin)).catch((error) => console.warn("[bulletin] no install entry", error));
  }

  function offerInstall() {
    if (matchMedia("(display-mode: standalone)").matches || navigator.standalone) return persistStorage();
    if (!footer || !footer.dataset.installScript) return;
    window.addEventListener("beforeinstallprompt", (event) => {
      event.preventDefault();
      withEntries(({ offerPrompt }) => offerPrompt(event));
    });
    window.addEventListener("appinstalled", () => {
      clearInstallEntries();
      persistStorage();
    });
    // iPads since iPadOS 13 say they are Macs; a Mac with a touch screen is one.
    if (/iphone|ipad|ipod/i.test(navigator.userAgent) || (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1)) {
      withEntries(({ offerIosSteps }) => offerIosSteps());
    }
  }

  Object.assign(Bulletin, { offerInstall, persistStorage, clearInstallEntries });
})();
