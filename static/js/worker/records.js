// What the device stores of a statement, made from a record whose signature
// was verified: the record's payload alone (never the fields around it, which
// nobody signed), the envelope as received (bundles hand it on), and what the
// pages need that the payload implies: the statement's address below the
// worker's scope and its order in the lists.
"use strict";
/* global escapeHtml */
/* exported fromSigned, listItemHtml, recordAddress, signerOf */

// A corrected statement's article says so after its date, in its date line
// (reader/_article.html): the record has no other sign of it (`updated` is
// the latest save, a first publication's included).
const CORRECTED = /<p class="meta"[^>]*><time[^>]*>[^<]*<\/time> · /;

// The address of a statement's page: statements/<slug>/ below the worker's
// scope, so the same record is right at the origin, in an export and on a mirror.
function recordAddress(slug) {
  return new URL(`statements/${encodeURIComponent(slug)}/`, self.registration.scope).pathname;
}

// The device's record of a statement from its verified `document` (the
// parsed payload of `envelope`), keeping what only the device knows of `existing`.
function fromSigned(document, envelope, existing) {
  return {
    id: document.id,
    revision: document.revision,
    slug: document.slug,
    url: recordAddress(document.slug),
    title: document.title,
    summary: document.summary,
    lang: document.lang,
    dir: document.dir,
    translation_group: document.translation_group,
    published: document.published,
    updated: document.updated,
    tags: Array.isArray(document.tags) ? document.tags : [],
    correction_note: document.correction_note,
    // The publisher's sanitized markup, signed: what the statement's page shows.
    article_html: document.article_html,
    corrected: CORRECTED.test(document.article_html || ""),
    epoch: document.epoch,
    seq: document.seq,
    // Newest first; a day's statements by their latest change (the server uses their creation).
    list_order: `${document.published || ""} ${String(document.seq).padStart(16, "0")}`,
    signed: envelope,
    withdrawn: false,
    pinned: existing ? Boolean(existing.pinned) : false,
    lastRead: existing ? existing.lastRead || 0 : 0,
  };
}

// A list's <li> for `record`, as the server's reader/_list_item.html writes it,
// built on the device: every text escaped, the date in `lang` (the list
// shell's interface language), `updatedLabel` ("Updated" in that language)
// after the date of a corrected statement.
function listItemHtml(record, lang, updatedLabel) {
  const e = escapeHtml; // sw.js
  const attrs = `lang="${e(record.lang || "")}" dir="${e(record.dir || "ltr")}"`;
  let date = record.published || "";
  try {
    // A date alone (2022-01-07) is that day wherever the reader is.
    const day = new Date(/^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T12:00:00Z` : date);
    date = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : lang, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(day);
  } catch {
    // an unreadable date is shown as written
  }
  const updated = record.corrected && updatedLabel ? ` · ${e(updatedLabel)}` : "";
  const summary = record.summary ? `\n<p ${attrs}>${e(record.summary)}</p>` : "";
  return `<li>\n<h2 ${attrs}><a href="${e(record.url)}">${e(record.title)}</a></h2>\n`
    + `<p class="meta"><time datetime="${e(record.published || "")}">${e(date)}</time>${updated}</p>${summary}\n</li>`;
}

// Who signed a stored record, for the line under its page built on the
// device: the key id its envelope names and the fingerprint of the root this
// device pinned (the one /about shows, ten groups of four hex digits), which
// certified that key when the record was verified. Null for a record stored
// unsigned (a site without keys).
async function signerOf(record) {
  const state = await OfflineStore.getMeta(Bulletin.VERIFIER_META);
  if (!record.signed || typeof record.signed.kid !== "string" || !state || typeof state.root !== "string") return null;
  const raw = Uint8Array.from(atob(state.root.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  const digits = Array.from(digest.slice(0, 20), (byte) => (byte + 256).toString(16).slice(1)).join("");
  return { kid: record.signed.kid, fingerprint: digits.match(/.{4}/g).join(" ") };
}
