// Passing a statement on: its "Share this statement" link (without a
// script, a plain link to the statement) opens the device's share sheet
// where there is one (Web Share), and otherwise copies the address. The
// article itself is left as the server wrote it: the device stores it so.
"use strict";

(() => {
  const { t, element, announce } = Bulletin; // strings.js, notices.js

  function enhanceShare() {
    const link = document.querySelector("article .share a");
    if (!link) return;
    const url = link.href; // absolute, whatever the markup says
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      try {
        if (navigator.share) return await navigator.share({ title: link.dataset.title, url });
      } catch (error) {
        if (error.name === "AbortError") return; // the reader closed the share sheet
        // Any other refusal: the address is copied instead.
      }
      try {
        await navigator.clipboard.writeText(url);
        announce(t("linkCopied"));
      } catch {
        // No clipboard (an older browser, a refused permission): the address to copy by hand.
        announce(t("copyLink"), element("a", { href: url }, url));
      }
    });
    // Printed, the link shows as the statement's address. The markup says "./"
    // (the same article at the origin, in an export, on a mirror), so the
    // stylesheet is given the address this page was read at, whole.
    document.documentElement.style.setProperty("--address", JSON.stringify(url));
  }

  Object.assign(Bulletin, { enhanceShare });
})();
