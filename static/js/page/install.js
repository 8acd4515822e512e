// Installing to the home screen: the browser's own prompt offered in the
// status line, a hint for iPhones (which have no prompt), and persistent
// storage asked for once the app is installed.
"use strict";

(() => {
  const { t, element, announce, hideStatus } = Bulletin; // strings.js, notices.js

  function offerInstall() {
    let deferred = null;
    window.addEventListener("beforeinstallprompt", (event) => {
      event.preventDefault();
      deferred = event;
      const button = element("button", { type: "button" }, t("install"));
      button.addEventListener("click", () => { deferred.prompt(); hideStatus(); });
      announce("", button);
    });
    window.addEventListener("appinstalled", () => {
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
    });
    const ios = /iphone|ipad|ipod/i.test(navigator.userAgent) && !navigator.standalone;
    if (ios && !localStorage.getItem("bulletin-ios-hint")) {
      localStorage.setItem("bulletin-ios-hint", "1");
      announce(t("iosHint"));
    }
    if (matchMedia("(display-mode: standalone)").matches && navigator.storage && navigator.storage.persist) {
      navigator.storage.persist();
    }
  }

  Object.assign(Bulletin, { offerInstall });
})();
