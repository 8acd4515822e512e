// "Remove everything from this device" on /about, a script of that page
// only (readers elsewhere do not pay for it). The service worker is
// unregistered first, so it stops keeping things; then every cache, every
// IndexedDB database and this site's localStorage go. The reader confirms
// first and is told when it is done. Its words come with the page
// (data-* attributes of #remove-all), in the page's language.
"use strict";

(() => {
  const area = document.getElementById("remove-all");
  const status = document.getElementById("remove-all-status");
  if (!area || !status) return;
  const words = area.dataset;

  function button(text, quiet) {
    const node = document.createElement("button");
    node.type = "button";
    node.textContent = text;
    if (quiet) node.className = "quiet";
    return node;
  }

  function deleteDatabase(name) {
    return new Promise((resolve, reject) => {
      const request = indexedDB.deleteDatabase(name);
      // Open connections (the page's, the worker's) close on `versionchange`
      // (offline-store.js); `blocked` only means the deletion waits for them.
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    });
  }

  async function removeEverything() {
    if (navigator.serviceWorker) {
      const registrations = await navigator.serviceWorker.getRegistrations();
      await Promise.all(registrations.map((registration) => registration.unregister()));
    }
    if (window.caches) await Promise.all((await caches.keys()).map((name) => caches.delete(name)));
    // Browsers without indexedDB.databases() have Bulletin's one database.
    const names = indexedDB.databases ? (await indexedDB.databases()).map((info) => info.name) : ["bulletin"];
    await Promise.all(names.map(deleteDatabase));
    localStorage.clear();
  }

  const start = area.querySelector("button");
  area.hidden = false;
  start.addEventListener("click", () => {
    status.textContent = "";
    const box = document.createElement("div");
    const question = document.createElement("p");
    const yes = button(words.yes);
    const no = button(words.cancel, true);
    question.textContent = words.confirm;
    question.tabIndex = -1;
    box.append(question, yes, " ", no);
    const close = () => {
      box.remove();
      start.hidden = false;
      start.focus();
    };
    yes.addEventListener("click", async () => {
      close();
      try {
        await removeEverything();
        status.textContent = words.done;
      } catch (error) {
        console.warn("[bulletin] the device's data could not all be removed", error);
        status.textContent = words.failed;
      }
    });
    no.addEventListener("click", close);
    start.hidden = true;
    area.append(box);
    question.focus(); // the question is read first
  });
})();
