// Words as the device's search compares them, as bulletin/statements/words.py
// does on the server: folded (lower case, no diacritics, tashkeel or tatweel,
// alef forms as alef, й kept), Russian words stemmed by the Snowball
// algorithm, Arabic words without a leading article; a query word matches a
// key that starts with the word or its stem, so Kazakh (no stemmer) is found
// by the start of its words (a word or stem under 4 letters: the whole key).
// The server also stems English, French and Spanish; the device matches
// those by the start of the word only.
// Part of the search script (static/js/search/), loaded at the first search.
"use strict";
/* exported SearchWords */

const SearchWords = (() => {
  function fold(text) {
    return text.toLowerCase().normalize("NFD")
      .replace(/(?!\u0306)\p{M}/gu, "") // keep the breve: и + breve is й, a letter of its own
      .normalize("NFC")
      .replace(/\u0671/g, "\u0627").replace(/\u0649/g, "\u064a").replace(/\u0640/g, "");
  }

  function words(text) {
    return fold(text).match(/[\p{L}\p{N}]+/gu) || [];
  }

  function script(word) {
    const c = word[0];
    if (c >= "\u0400" && c <= "\u04ff") return "cyrillic";
    if (c >= "\u0600" && c <= "\u06ff") return "arabic";
    if (c <= "\u007f" || (c >= "\u00c0" && c <= "\u024f")) return "latin";
    return "other";
  }

  const ARTICLES = ["\u0648\u0627\u0644", "\u0628\u0627\u0644", "\u0643\u0627\u0644", "\u0641\u0627\u0644", "\u0627\u0644", "\u0644\u0644"];

  function withoutArticle(word) {
    for (const article of ARTICLES) {
      if (word.startsWith(article) && word.length - article.length >= 2) return word.slice(article.length);
    }
    return word;
  }

  // ------------------------------------------------ the Russian Snowball stemmer
  // Each list: [ending, afterAYa]; endings marked afterAYa go only after а or я (which stay).
  const VOWELS = "аеиоуыэюя";
  const plain = (endings) => endings.split(" ").map((e) => [e, false]);
  const afterAYa = (first, second) => plain(first).map(([e]) => [e, true]).concat(plain(second));
  const GERUND = afterAYa("в вши вшись", "ив ивши ившись ыв ывши ывшись");
  const ADJECTIVE = plain("ее ие ые ое ими ыми ей ий ый ой ем им ым ом его ого ему ому их ых ую юю ая яя ою ею");
  const PARTICIPLE = afterAYa("ем нн вш ющ щ", "ивш ывш ующ");
  const REFLEXIVE = plain("ся сь");
  const VERB = afterAYa(
    "ла на ете йте ли й л ем н ло но ет ют ны ть ешь нно",
    "ила ыла ена ейте уйте ите или ыли ей уй ил ыл им ым ен ило ыло ено ят ует уют ит ыт ены ить ыть ишь ую ю",
  );
  const NOUN = plain("а ев ов ие ье е иями ями ами еи ии и ией ей ой ий й иям ям ием ем ам ом о у ах иях ях ы ь ию ью ю ия ья я");
  const SUPERLATIVE = plain("ейш ейше");
  const DERIVATIONAL = plain("ост ость");

  function longest(s, endings) {
    let best = null;
    for (const entry of endings) {
      if (s.endsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
    }
    return best;
  }

  // `s` without its longest ending of `endings`, or null when there is none
  // (or an ending that must follow а or я follows neither).
  function removeEnding(s, endings) {
    const found = longest(s, endings);
    if (!found) return null;
    const rest = s.slice(0, s.length - found[0].length);
    if (found[1] && !/[ая]$/.test(rest)) return null;
    return rest;
  }

  // RV (after the first vowel) and R2, as offsets into the word.
  function regions(word) {
    const isVowel = (c) => VOWELS.indexOf(c) >= 0;
    const n = word.length;
    let i = 0;
    const marks = [];
    for (const wantVowel of [true, false, true, false]) {
      while (i < n && isVowel(word[i]) !== wantVowel) i += 1;
      if (i >= n) break;
      i += 1;
      marks.push(i);
    }
    return { rv: marks.length ? marks[0] : n, r2: marks.length === 4 ? marks[3] : n };
  }

  function adjectival(s) {
    const rest = removeEnding(s, ADJECTIVE);
    if (rest === null) return null;
    const withoutParticiple = removeEnding(rest, PARTICIPLE);
    return withoutParticiple === null ? rest : withoutParticiple;
  }

  function stemRussian(input) {
    const word = input.replace(/ё/g, "е");
    const { rv, r2 } = regions(word);
    let s = word.slice(rv); // every ending removed lies in RV
    const gerund = removeEnding(s, GERUND);
    if (gerund !== null) {
      s = gerund;
    } else {
      const reflexive = removeEnding(s, REFLEXIVE);
      if (reflexive !== null) s = reflexive;
      const next = [adjectival, (x) => removeEnding(x, VERB), (x) => removeEnding(x, NOUN)];
      for (const step of next) {
        const rest = step(s);
        if (rest !== null) { s = rest; break; }
      }
    }
    if (s.endsWith("и")) s = s.slice(0, -1);
    const derivational = longest(s, DERIVATIONAL);
    if (derivational && rv + s.length - derivational[0].length >= r2) s = s.slice(0, -derivational[0].length);
    const superlative = longest(s, SUPERLATIVE);
    if (superlative) {
      s = s.slice(0, -superlative[0].length);
      if (s.endsWith("нн")) s = s.slice(0, -1);
    } else if (s.endsWith("нн")) {
      s = s.slice(0, -1);
    } else if (s.endsWith("ь")) {
      s = s.slice(0, -1);
    }
    return word.slice(0, rv) + s;
  }

  // ------------------------------------------------ keys and queries

  function key(word, lang) {
    if (script(word) === "arabic") return withoutArticle(word);
    return (lang || "").split("-")[0].toLowerCase() === "ru" ? stemRussian(word) : word;
  }

  function keys(text, lang) {
    return words(text).map((word) => key(word, lang));
  }

  // The prefixes a folded query word matches keys by.
  function candidates(word) {
    const found = new Set([word]);
    const kind = script(word);
    if (kind === "arabic") found.add(withoutArticle(word));
    if (kind === "cyrillic") found.add(stemRussian(word));
    return Array.from(found).filter(Boolean);
  }

  // One list of prefixes per distinct word of the query: every word must match.
  function queryCandidates(query) {
    const seen = new Map();
    words(query).forEach((word) => { if (!seen.has(word)) seen.set(word, candidates(word)); });
    return Array.from(seen.values());
  }

  // Shorter words and stems match whole keys only (as on the server: MIN_PREFIX).
  const MIN_PREFIX = 4;

  function matches(wordKey, options) {
    return options.some((prefix) => wordKey === prefix || (prefix.length >= MIN_PREFIX && wordKey.startsWith(prefix)));
  }

  return { MIN_PREFIX, fold, words, stemRussian, key, keys, candidates, queryCandidates, matches };
})();
