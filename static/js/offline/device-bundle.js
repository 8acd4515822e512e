// "Make a bundle from this device" on the offline page: one bundle file of
// the device's own stored envelopes, signatures kept and bytes as received,
// handed to the reader as a download to pass on. The same page as a bundle the
// server makes (`flask bundle`): the shell the worker precaches for the
// interface language (/offline/bundle-shell/, the viewer and its CSP inside),
// its data block filled here. Everything it needs is on the device: it works
// with no network at all. Where the platform shares files, "Share the file"
// is offered beside it.
//
// Cost: the device holds at most its budget of statements (OFFLINE_KEEP plus
// those read or saved); their records are read once, the file's text is made
// by one JSON.stringify and one replace, and the file is a Blob of three
// parts. No DOM is made per record; memory is about twice the file's size
// while it is made.
"use strict";

(() => {
  const { element } = Bulletin; // strings.js
  const DATA_OPENING = '<script type="application/json" id="bulletin-bundle">';
  const DATA_CLOSING = "</script>";

  // The file's name: the device's own date (a name, not a claim about the statements).
  function fileName(now = new Date()) {
    const pad = (n) => String(n).padStart(2, "0");
    return `bulletin-${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}.html`;
  }

  // The data block's text: compact JSON, every "<" escaped as the format requires, so no text in it
  // can close the element or open a comment. Envelopes go in as received: only their payloads are
  // signed, and those strings are kept byte for byte.
  function dataText(documents, envelopes) {
    const bundle = { format: "bulletin-bundle/1", ...documents, records: envelopes };
    return JSON.stringify(bundle).replace(/</g, "\\u003c");
  }

  // The bundle's parts around `data`: the shell split at its data block (whose content it replaces).
  function around(shell) {
    const start = shell.indexOf(DATA_OPENING);
    const end = start < 0 ? -1 : shell.indexOf(DATA_CLOSING, start);
    if (end < 0) throw new Error("the bundle shell has no data block");
    return [shell.slice(0, start + DATA_OPENING.length), shell.slice(end)];
  }

  async function shellText(url) {
    // Precached with the offline page: the worker's cache answers, and Cache Storage does where no worker controls the page.
    const response = (typeof caches !== "undefined" && (await caches.match(url))) || (await fetch(url));
    if (!response.ok) throw new Error(`the bundle shell answered ${response.status}`);
    return response.text();
  }

  // What a bundle made now would hold: {envelopes, documents}, or {problem} naming the sentence
  // that says why none can be made. A record signed by a key since revoked is left out: it would
  // be refused on import until a valid record replaces it.
  async function contents() {
    const records = await OfflineStore.all();
    if (!records.length) return { problem: "empty" };
    const signed = records.filter((r) => r.signed && typeof r.signed.payload === "string" && !r.revokedKey);
    if (!signed.length) return { problem: "unsigned" };
    const { keys, index, mirrors } = Bulletin.SIGNED_META;
    const documents = {
      keys: await OfflineStore.getMeta(keys),
      index: (await OfflineStore.getMeta(index)) || null, // null where the device synced by /api/sync
      mirrors: (await OfflineStore.getMeta(mirrors)) || null,
    };
    if (!documents.keys) return { problem: "noKeys" };
    return { envelopes: signed.sort(OfflineStore.newestFirst).map((r) => r.signed), documents };
  }

  // The file made, or the reason none was: {blob, name, count} or {problem}.
  async function makeBundle(shellUrl) {
    const found = await contents();
    if (found.problem) return found;
    const [head, tail] = around(await shellText(shellUrl));
    const blob = new Blob([head, dataText(found.documents, found.envelopes), tail], { type: "text/html" });
    return { blob, name: fileName(), count: found.envelopes.length };
  }

  // Hand the file over as a download: it must work everywhere, sharing or not.
  function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = element("a", { href: url, download: name, hidden: "" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000); // after the browser has taken the file
  }

  // Where the platform shares files (Web Share with files: Android's share sheet), the file made can
  // also go straight to a messaging app. The download is made either way: sharing is only offered.
  function offerSharing(button, made) {
    button.hidden = true;
    if (!navigator.canShare || !navigator.share || typeof File === "undefined") return;
    const file = new File([made.blob], made.name, { type: "text/html" });
    if (!navigator.canShare({ files: [file] })) return;
    button.onclick = async () => {
      try {
        await navigator.share({ files: [file] });
      } catch (error) {
        if (error.name !== "AbortError") console.warn("[bulletin] the file was not shared", error); // it is downloaded
      }
    };
    button.hidden = false;
  }

  function enhanceDeviceBundle() {
    const section = document.getElementById("device-bundle");
    if (!section || typeof Blob === "undefined" || typeof indexedDB === "undefined") return;
    const button = document.getElementById("make-bundle");
    const status = document.getElementById("device-bundle-status");
    const words = section.dataset;
    section.hidden = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      status.textContent = "";
      document.getElementById("share-bundle").hidden = true; // it would share the file made before
      try {
        const made = await makeBundle(words.shell);
        if (made.problem) {
          status.textContent = words[made.problem];
          return;
        }
        download(made.blob, made.name);
        offerSharing(document.getElementById("share-bundle"), made);
        status.textContent = words.made.replace("%(file)s", made.name).replace("%(num)s", String(made.count));
      } catch (error) {
        console.warn("[bulletin] no bundle was made", error);
        status.textContent = words.failed;
      } finally {
        button.disabled = false;
      }
    });
  }

  Object.assign(Bulletin, { enhanceDeviceBundle });
  enhanceDeviceBundle();
})();
