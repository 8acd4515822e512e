// Lists built on the device: the latest statements and a tag's, a page at a
// time, from the server's list shell (its page with empty slots) and each
// statement's <li>: the server's own (list_item_html) where an unsigned sync
// brought it, else built from the signed record (records.js), in the
// server's order (list_order). Nothing here renders a statement.
"use strict";
/* global escapeHtml, madePage, CACHES, listItemHtml */
/* exported fromListShell */

// Newest first, ties broken as the server breaks them: list_order descending.
function serverOrder(a, b) {
  return (b.list_order || "").localeCompare(a.list_order || "");
}

// Which slice of the list a URL asks for: after `before` (the id the server's
// "Older" link carries) when the device holds it, else by page number.
function pageSlice(records, params, size) {
  const asked = Number.parseInt(params.get("page") || "1", 10);
  const page = Number.isFinite(asked) && asked > 0 ? asked : 1;
  const before = params.get("before");
  const after = before ? records.findIndex((record) => record.id === before) : -1;
  const start = after >= 0 ? after + 1 : (page - 1) * size;
  return { page, start, items: records.slice(start, start + size), hasNext: start + size < records.length };
}

// The page links of the shell: "Newer" only past the first page, "Older"
// only when more follow, no navigation at all when neither.
function fillPageLinks(html, { page, items, hasNext }) {
  const markers = SETTINGS.listMarkers;
  let filled = html;
  if (page <= 1) filled = filled.replace(/<a rel="prev"[^>]*>[^<]*<\/a>\s*/, "");
  if (!hasNext) filled = filled.replace(/\s*<a rel="next"[^>]*>[^<]*<\/a>/, "");
  if (page <= 1 && !hasNext) filled = filled.replace(/<nav class="pages"[^>]*>\s*<\/nav>/, "");
  const last = items[items.length - 1];
  return filled
    .replace(markers.prev, () => String(page - 1))
    .replace(markers.next, () => `${page + 1}&amp;before=${encodeURIComponent(last.id)}`);
}

// The tag where the shell names it: encoded in its addresses, as text elsewhere.
function fillTag(html, tag) {
  const marker = SETTINGS.listMarkers.tag;
  return html
    .split(`/tags/${marker}`).join(`/tags/${escapeHtml(encodeURIComponent(tag))}`)
    .split(marker).join(escapeHtml(tag));
}

// A list page for `url` built on the device, or null: not a list, no shell,
// or nothing on the device for this page (the offline page then says so).
async function fromListShell(url) {
  const route = Bulletin.listRoute(url.pathname);
  if (!route) return null;
  const shellUrl = `${route.prefix}${route.tag === null ? SETTINGS.listShellUrl : SETTINGS.tagShellUrl}`;
  const shell = await caches.match(shellUrl, { cacheName: CACHES.precache });
  if (!shell) return null;
  const records = (await OfflineStore.all())
    .filter(OfflineStore.readable)
    .filter((r) => route.tag === null || (r.tags || []).includes(route.tag))
    .sort(serverOrder);
  const slice = pageSlice(records, url.searchParams, SETTINGS.pageSize);
  if (!slice.items.length) return null;
  const text = await shell.text();
  // The shell's language, and its word for a corrected statement (_list.html's data-updated).
  const lang = (/<html lang="([^"]+)"/.exec(text) || [])[1] || SETTINGS.defaultLang;
  const updated = (/data-updated="([^"]*)"/.exec(text) || [])[1] || "";
  const item = (r) => r.list_item_html || listItemHtml(r, lang, updated.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(n)));
  let html = text.replace(SETTINGS.listMarkers.items, () => slice.items.map(item).join("\n"));
  html = fillPageLinks(html, slice);
  if (route.tag !== null) html = fillTag(html, route.tag);
  return madePage(html, shell);
}
