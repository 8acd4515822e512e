// "Open a bundle" on the offline page: a file picked or dropped goes to the
// worker's one import function (static/js/worker/imports.js), which verifies
// and stores it; its report is shown here in the page's own words (the JSON
// in #import-strings). A file shared to the installed app arrives by the
// worker too, which then opens this page at #import-result: the last
// import's report, kept on the device, is shown then.
"use strict";

(() => {
  const section = document.getElementById("import");
  const result = document.getElementById("import-result");
  const input = document.getElementById("bundle-file");
  if (!section || !result || !input || !("serviceWorker" in navigator)) return;
  const strings = JSON.parse(document.getElementById("import-strings").textContent);
  const plurals = new Intl.PluralRules(document.documentElement.lang || "en");

  // One of the import's strings, its plural form chosen for vars.num.
  function say(key, vars = {}) {
    let text = strings[key] || strings.failed;
    if (typeof text === "object") text = text[plurals.select(vars.num)] || text.other;
    return text.replace(/%\((\w+)\)[sd]/g, (_, name) => String(vars[name]));
  }

  function show(text, reasons = []) {
    result.textContent = text;
    if (reasons.length) result.dataset.refused = reasons.join(" ");
    else delete result.dataset.refused;
  }

  // A report in plain words; the refusals' reason codes kept as data for whoever looks closer.
  function showReport(report) {
    if (report.problem) return show(say(report.problem));
    const sentences = [];
    if (report.imported) sentences.push(say("imported", { num: report.imported }));
    if (report.ignored) sentences.push(say("upToDate", { num: report.ignored }));
    if (report.refusedCount) sentences.push(say("refused", { num: report.refusedCount }));
    if (!sentences.length) sentences.push(say("nothing"));
    show(sentences.join(" "), Object.keys(report.reasons || {}).sort());
    if (Bulletin.fillOfflinePage) Bulletin.fillOfflinePage().catch(() => {}); // the lists now hold them
  }

  // The worker's report on `file`, asked on a channel of this page's own.
  async function imported(file) {
    const registration = await navigator.serviceWorker.getRegistration();
    const worker = registration && registration.active;
    if (!worker) return { problem: "noWorker" };
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve((event.data && event.data.report) || { problem: "failed" });
      worker.postMessage({ type: Bulletin.MESSAGE.importBundle, file }, [channel.port2]);
    });
  }

  async function importFile(file) {
    if (!file) return;
    show(say("importing"));
    try {
      showReport(await imported(file));
    } catch (error) {
      console.warn("[bulletin] the bundle could not be given to the worker", error);
      showReport({ problem: "failed" });
    }
  }

  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    input.value = ""; // the same file picked again is imported again
    importFile(file);
  });
  section.addEventListener("dragover", (event) => {
    event.preventDefault(); // a drop here, not the browser opening the file
    section.classList.add("dropping");
  });
  section.addEventListener("dragleave", () => section.classList.remove("dropping"));
  section.addEventListener("drop", (event) => {
    event.preventDefault();
    section.classList.remove("dropping");
    importFile(event.dataTransfer && event.dataTransfer.files[0]);
  });
  section.hidden = false;

  // Opened by the share target's answer: the report of the import it made.
  if (location.hash === "#import-result") {
    OfflineStore.getMeta(Bulletin.IMPORT_META)
      .then((report) => {
        if (report) showReport(report);
        section.scrollIntoView();
      })
      .catch(() => {});
  }
})();
