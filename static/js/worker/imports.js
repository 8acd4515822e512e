// Importing a bundle: the one function behind every way a bundle file comes
// in (the offline page's file picker and drop zone, by message; the share
// target, by the form the platform posts). A bundle is a `.html` file
// holding signed records in its data block (bulletin/site/bundle_file.py):
// whoever passed it on is not trusted, so everything in it is verified
// against the pinned root with the device's rules, as a sync verifies, and
// refusals are reported with the same reason codes.
//
// A bundle is not a sync: the cursor, the newest index verified and the
// trusted time stay as they are (the bundle's index is not read; a record
// carries no signed_at). The keys it carries are taken like an index's keys,
// each certificate and revocation verified on its own against the pinned root.
"use strict";
/* global deviceVerifier, takeKeys, isNewer, store, fromSigned, recordAddress, exclusively, VERIFIER_META */
/* exported importBundle, IMPORT_META, MAX_BUNDLE_BYTES */

const BUNDLE_FORMAT = "bulletin-bundle/1";
// The data block as the format writes it; its JSON has every "<" escaped, so
// the first "</script>" after it is its end.
const BUNDLE_OPEN = '<script type="application/json" id="bulletin-bundle">';
const BUNDLE_CLOSE = "</script>";
// A bundle is made to pass through messaging apps (8 MB by default); four
// times that is still one file a phone can hold in memory, and more is refused unread.
const MAX_BUNDLE_BYTES = 32 * 1024 * 1024;
// The last import's report, for the page a share target's redirect opens.
const IMPORT_META = Bulletin.IMPORT_META;
// Refusals described one by one, at most: a hostile file of a million broken
// records is counted whole, but its report stays small.
const MAX_DESCRIBED = 100;

// Why a whole file was not imported (none of its records were looked at).
const FILE_PROBLEMS = {
  tooLarge: "too-large", // over MAX_BUNDLE_BYTES
  notBundle: "not-a-bundle", // no data block
  malformed: "malformed", // a data block that is not a bundle's JSON
  wrongFormat: "wrong-format", // another format, or another version of this one
  noRoot: "no-root", // this device pinned no root: a site without keys verifies nothing
  failed: "failed", // the device could not store what it verified
};

// A report with nothing imported, for a file refused whole.
function fileRefused(problem) {
  return { imported: 0, ignored: 0, refused: [], refusedCount: 0, reasons: {}, problem };
}

// The bundle's data, or the problem that stops it (a string of FILE_PROBLEMS).
function bundleData(text) {
  const start = text.indexOf(BUNDLE_OPEN);
  if (start < 0) return FILE_PROBLEMS.notBundle;
  const end = text.indexOf(BUNDLE_CLOSE, start + BUNDLE_OPEN.length);
  if (end < 0) return FILE_PROBLEMS.malformed;
  let data;
  try {
    data = JSON.parse(text.slice(start + BUNDLE_OPEN.length, end));
  } catch {
    return FILE_PROBLEMS.malformed;
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) return FILE_PROBLEMS.malformed;
  if (data.format !== BUNDLE_FORMAT) return FILE_PROBLEMS.wrongFormat;
  if (!Array.isArray(data.records)) return FILE_PROBLEMS.malformed;
  return data;
}

// Each record verified; the refused ones counted by reason and (the first
// MAX_DESCRIBED) described by their reason, their place in the bundle and the
// key id they claim (nothing else of an unverified record is worth showing).
async function verifiedRecords(records, verifier, report) {
  const verified = [];
  for (let n = 0; n < records.length; n += 1) {
    const envelope = records[n];
    try {
      verified.push({ document: await verifier.acceptRecord(envelope, null), envelope });
    } catch (error) {
      if (!error || error.name !== "Refused") throw error;
      report.refusedCount += 1;
      report.reasons[error.reason] = (report.reasons[error.reason] || 0) + 1;
      if (report.refused.length >= MAX_DESCRIBED) continue;
      const kid = envelope && typeof envelope.kid === "string" ? envelope.kid.slice(0, 64) : null;
      report.refused.push({ reason: error.reason, n, kid });
    }
  }
  return verified;
}

// What the device stores of the verified records: the newer ones, a
// statement as received and saved (no budget evicts it), a withdrawal as the
// notice in place of the device's copy (or kept alone, where the device had
// none). Records no newer than what the device (or an earlier record of this
// bundle) holds are ignored.
async function importVerified(verified) {
  const held = new Map();
  const found = await OfflineStore.getMany(verified.map((entry) => entry.document.id));
  verified.forEach((entry, i) => { if (found[i] && !held.has(entry.document.id)) held.set(entry.document.id, found[i]); });
  const changed = new Map();
  const stalePages = [];
  let ignored = 0;
  for (const { document, envelope } of verified) {
    const existing = changed.get(document.id) || held.get(document.id);
    if (existing && !isNewer(document, existing)) { ignored += 1; continue; }
    if (document.type === "withdrawal") {
      stalePages.push(recordAddress(document.slug));
      // Kept even where the device never held the statement: an older bundle
      // carrying it later is then no newer, and the device passes the
      // withdrawal on in the bundles it makes.
      changed.set(document.id, Object.assign(existing ? {} : fromSigned(document, envelope, null), existing, {
        withdrawn: true, withdrawn_at: document.withdrawn_at, reason: document.reason,
        article_html: document.article_html, epoch: document.epoch, seq: document.seq,
        signed: envelope, revokedKey: false,
      }));
      continue;
    }
    if (existing && existing.url) stalePages.push(existing.url);
    changed.set(document.id, Object.assign(fromSigned(document, envelope, existing), { pinned: true }));
  }
  const records = Array.from(changed.values());
  await store(records, stalePages);
  return { imported: records.length, ignored };
}

// Import with the device's verifier: its state kept after (the keys taken),
// whatever came of the records.
async function importData(data) {
  const verifier = await deviceVerifier();
  if (!verifier) return fileRefused(FILE_PROBLEMS.noRoot);
  const run = { verifier, refused: {} };
  const report = fileRefused(null);
  try {
    if (data.keys && typeof data.keys === "object" && !Array.isArray(data.keys)) await takeKeys(run, data.keys);
    const verified = await verifiedRecords(data.records, verifier, report);
    return Object.assign(report, await importVerified(verified));
  } finally {
    await OfflineStore.setMeta(VERIFIER_META, verifier.state);
  }
}

// Import the bundle file `file` (a Blob or File, as a picker, a drop or a
// shared form gives it): a promise of the report {imported, ignored,
// refused: [{reason, n, kid}], refusedCount, reasons: {reason: count},
// problem} (`problem`, one of FILE_PROBLEMS, when the whole file was refused,
// else null), also kept for the pages as IMPORT_META.
// It never rejects: every failure is a reported reason.
async function importBundle(file) {
  let report;
  try {
    if (file && file.size > MAX_BUNDLE_BYTES) {
      report = fileRefused(FILE_PROBLEMS.tooLarge);
    } else if (!file || typeof file.size !== "number" || typeof file.text !== "function") {
      report = fileRefused(FILE_PROBLEMS.notBundle);
    } else {
      const data = bundleData(await file.text());
      report = typeof data === "string" ? fileRefused(data) : await exclusively(() => importData(data));
    }
  } catch (error) {
    console.warn("[bulletin-sw] a bundle could not be imported", error);
    report = fileRefused(FILE_PROBLEMS.failed);
  }
  report.at = Date.now();
  await OfflineStore.setMeta(IMPORT_META, report).catch(() => {});
  return report;
}
