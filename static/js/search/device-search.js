// The device's own search: every statement stored on this device (titles and
// bodies), searched when the server cannot answer: Bulletin.searchOnDevice,
// called by start.js. The page script loads the search script at the first
// search (static/js/page/search-page.js); the worker precaches it.
//
// The index is built from the stored statements at the first search after
// they changed (a sync, a statement opened or evicted) and kept in the
// store's meta: the terms in sorted order, each with the statements holding
// it, so a query word is a binary search for its prefixes.
"use strict";
/* global SearchWords */

(() => {
  const { t, element } = Bulletin; // strings.js
  const INDEX_KEY = "searchIndex";
  const INDEX_VERSION = 1;
  const SHOWN = 10; // results shown at a time (a phone's screen or two); "More results" shows the next ones
  const REMEMBERED = 20000; // words whose keys a page keeps between searches, and statements' texts (a tenth)

  // ------------------------------------------------ text of a stored statement

  function parsed(record) {
    return new DOMParser().parseFromString(record.article_html || "", "text/html");
  }

  // The statement's own words: the article without its title, date line, tags and translation links.
  function bodyText(doc) {
    const article = doc.querySelector("article") || doc.body;
    article.querySelectorAll("h1, .meta, .tags, .translations").forEach((node) => node.remove());
    return Array.from(article.querySelectorAll("p, li, blockquote, h2, h3, h4, td, pre"))
      .filter((node) => !node.querySelector("p, li, blockquote, td"))
      .map((node) => node.textContent.trim())
      .join(" ") || article.textContent;
  }

  function writtenDate(doc) {
    const time = doc.querySelector("time");
    return time ? time.textContent : "";
  }

  // ------------------------------------------------ the index

  async function stampOfStore() {
    const [lastSync, count] = await Promise.all([OfflineStore.getMeta("lastSync"), OfflineStore.count()]);
    return `${INDEX_VERSION}|${lastSync || ""}|${count}`;
  }

  // Postings as text: gaps between statement numbers in base 36.
  function encode(numbers) {
    let previous = 0;
    return numbers.map((n) => { const gap = n - previous; previous = n; return gap.toString(36); }).join(",");
  }

  function decode(text, into) {
    let n = 0;
    text.split(",").forEach((gap) => { n += parseInt(gap, 36); into.add(n); });
  }

  function build(records, stamp) {
    const postings = new Map();
    const docs = records.map((record, number) => {
      const doc = parsed(record);
      const date = writtenDate(doc); // before bodyText takes the date line out
      const keys = SearchWords.keys(`${record.title} ${bodyText(doc)}`, record.lang);
      new Set(keys).forEach((key) => {
        if (!postings.has(key)) postings.set(key, []);
        postings.get(key).push(number);
      });
      return { id: record.id, url: record.url, title: record.title, lang: record.lang, dir: record.dir, date };
    });
    const terms = Array.from(postings.keys()).sort();
    return { stamp, docs, terms, postings: terms.map((term) => encode(postings.get(term))) };
  }

  // Kept as four strings: read back, a few long strings cost far less than
  // thousands of short ones (each is copied out of the store on its own).
  function packed(idx) {
    return { stamp: idx.stamp, docs: JSON.stringify(idx.docs), terms: idx.terms.join("\n"), postings: idx.postings.join("\n") };
  }

  function unpacked(kept) {
    return { stamp: kept.stamp, docs: JSON.parse(kept.docs), terms: kept.terms.split("\n"), postings: kept.postings.split("\n") };
  }

  let current = null; // the index this page built or read
  const texts = new Map(); // statement id -> the text its snippets come from, for this index

  // The index of what the device holds now: read from storage, or built when the statements changed.
  async function freshIndex() {
    const stamp = await stampOfStore();
    if (current && current.stamp === stamp) return current;
    texts.clear();
    const kept = await OfflineStore.getMeta(INDEX_KEY);
    if (kept && kept.stamp === stamp) {
      current = unpacked(kept);
      return current;
    }
    // Newest first: statement numbers in that order make results newest first.
    const records = (await OfflineStore.all()).filter(OfflineStore.readable).sort(OfflineStore.newestFirst);
    current = build(records, stamp);
    // A full storage keeps no index: this page's copy still answers.
    await OfflineStore.setMeta(INDEX_KEY, packed(current))
      .catch((error) => console.warn("[bulletin] search index not kept", error));
    return current;
  }

  function firstAtOrAfter(terms, prefix) {
    let low = 0;
    let high = terms.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (terms[middle] < prefix) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  // Statement numbers holding a term that starts with one of `prefixes`.
  function holding(idx, prefixes) {
    const found = new Set();
    prefixes.forEach((prefix) => {
      for (let i = firstAtOrAfter(idx.terms, prefix); i < idx.terms.length && idx.terms[i].startsWith(prefix); i += 1) {
        if (SearchWords.matches(idx.terms[i], [prefix])) decode(idx.postings[i], found);
        if (prefix.length < SearchWords.MIN_PREFIX) break; // the whole key only: the first term, if any
      }
    });
    return found;
  }

  // Statement numbers holding every word of the query, newest first.
  function search(idx, wanted) {
    if (!wanted.length) return [];
    let hits = null;
    for (const prefixes of wanted) {
      const found = holding(idx, prefixes);
      hits = hits ? new Set(Array.from(hits).filter((n) => found.has(n))) : found;
      if (!hits.size) return [];
    }
    return Array.from(hits).sort((a, b) => a - b);
  }

  // ------------------------------------------------ snippets

  const SPAN = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;

  // The words of `text` as written (with their marks), as RegExp matches.
  function spansOf(text) {
    const spans = [];
    SPAN.lastIndex = 0;
    for (let found = SPAN.exec(text); found; found = SPAN.exec(text)) spans.push(found);
    return spans;
  }
  const BEFORE = 8;
  const AFTER = 24;

  // A word's keys, remembered: the same words recur from one statement and one search to the next.
  const keysOfWord = new Map();

  function wordKeys(word, lang) {
    const asked = `${lang}|${word}`;
    let found = keysOfWord.get(asked);
    if (!found) {
      if (keysOfWord.size >= REMEMBERED) keysOfWord.clear();
      found = SearchWords.keys(word, lang);
      keysOfWord.set(asked, found);
    }
    return found;
  }

  // Whether a word as written matches the query.
  function matcher(wanted) {
    return (word, lang) => wordKeys(word, lang).some((key) => wanted.some((prefixes) => SearchWords.matches(key, prefixes)));
  }

  // `text` into nodes, the words matching the query in <mark>.
  function marked(text, spans, flags, from, to) {
    const nodes = [];
    let position = spans[from].index;
    for (let i = from; i < to; i += 1) {
      if (!flags[i]) continue;
      const span = spans[i];
      if (span.index > position) nodes.push(document.createTextNode(text.slice(position, span.index)));
      nodes.push(element("mark", {}, span[0]));
      position = span.index + span[0].length;
    }
    const last = spans[to - 1];
    nodes.push(document.createTextNode(text.slice(position, last.index + last[0].length)));
    return nodes;
  }

  function titleNodes(title, lang, isMatch) {
    const spans = spansOf(title);
    if (!spans.length) return [document.createTextNode(title)];
    const flags = spans.map((span) => isMatch(span[0], lang));
    const head = document.createTextNode(title.slice(0, spans[0].index));
    const last = spans[spans.length - 1];
    const tail = document.createTextNode(title.slice(last.index + last[0].length));
    return [head, ...marked(title, spans, flags, 0, spans.length), tail];
  }

  function snippetNodes(text, lang, isMatch) {
    const spans = spansOf(text);
    if (!spans.length) return [];
    const first = Math.max(0, spans.findIndex((span) => isMatch(span[0], lang)));
    const from = Math.max(0, first - BEFORE);
    const to = Math.min(spans.length, first + AFTER);
    const flags = spans.map((span, i) => i >= from && i < to && isMatch(span[0], lang));
    const nodes = marked(text, spans, flags, from, to);
    if (from > 0) nodes.unshift(document.createTextNode("… "));
    if (to < spans.length) nodes.push(document.createTextNode(" …"));
    return nodes;
  }

  // ------------------------------------------------ the results

  function resultItem(doc, text, isMatch) {
    const item = element("li");
    const heading = element("h2", { lang: doc.lang || "", dir: doc.dir || "auto" });
    const link = element("a", { href: doc.url });
    link.append(...titleNodes(doc.title, doc.lang, isMatch));
    heading.append(link);
    item.append(heading, element("p", { class: "meta" }, doc.date));
    if (text) {
      const snippet = element("p", { class: "snippet", lang: doc.lang || "", dir: doc.dir || "auto" });
      snippet.append(...snippetNodes(text, doc.lang, isMatch));
      item.append(snippet);
    }
    return item;
  }

  async function showMore(list, idx, hits, isMatch, button) {
    const shown = list.children.length;
    const docs = hits.slice(shown, shown + SHOWN).map((n) => idx.docs[n]);
    await textsOf(docs);
    const items = docs.map((doc) => resultItem(doc, texts.get(doc.id), isMatch));
    list.append(...items);
    button.hidden = list.children.length >= hits.length;
  }

  // The snippets' texts of `docs`, read from the stored statements unless this page has them.
  async function textsOf(docs) {
    const missing = docs.filter((doc) => !texts.has(doc.id));
    if (!missing.length) return;
    if (texts.size >= REMEMBERED / 10) texts.clear();
    const records = await OfflineStore.getMany(missing.map((doc) => doc.id));
    missing.forEach((doc, i) => {
      const record = records[i];
      texts.set(doc.id, record && record.article_html ? bodyText(parsed(record)) : "");
    });
  }

  // The results replace the page's at once, the first ones filled in.
  async function show(box, idx, query) {
    const wanted = SearchWords.queryCandidates(query);
    const hits = search(idx, wanted);
    const list = element("ol", { class: "statements" });
    const more = element("button", { type: "button", class: "more" }, t("searchMore"));
    const isMatch = matcher(wanted);
    more.addEventListener("click", () => showMore(list, idx, hits, isMatch, more));
    const intro = element("p", {}, t(hits.length ? "searchFound" : "searchNone", { query }));
    const covered = element("p", { class: "meta", id: "search-covered" }, t("searchCovered", { num: idx.docs.length }));
    await showMore(list, idx, hits, isMatch, more);
    box.replaceChildren(intro, list, more, covered);
  }

  // Search the statements on this device for `query` and show the results in `box`.
  // A later search in the same page answers at once from the index it holds,
  // then checks the device's statements: when they changed, it searches again.
  async function searchOnDevice(box, query) {
    if (!current) {
      await show(box, await freshIndex(), query);
      return;
    }
    const held = current;
    await show(box, held, query);
    freshIndex()
      .then((latest) => (latest === held ? null : show(box, latest, query)))
      .catch((error) => console.warn("[bulletin] the statements on this device could not be searched again", error));
  }

  Object.assign(Bulletin, { searchOnDevice });
})();
