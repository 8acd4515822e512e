/* The viewer inside a bundle file (bulletin/site/bundle_file.py): the statements
 * of the data block made readable, with no network, from any folder.
 *
 * It is not a security boundary (anyone can edit the file) and checks no
 * signature: the app does that when it imports the file. What it promises is
 * that nothing in the data runs: titles and the like are set as text, and
 * each article (the publisher's sanitized HTML, but possibly edited since) is
 * parsed into an inert document, stripped of anything active and of links
 * that lead nowhere outside the site, then imported. The file's CSP, which
 * allows this script alone by its hash, blocks whatever would be left. */
(function () {
  "use strict";

  var REMOVED = "script,style,link,meta,base,iframe,frame,frameset,object,embed,applet,form,input," +
    "button,textarea,select,option,template,svg,math,audio,video,source,track,canvas,noscript,.share";
  var LANG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$/;

  var words = document.getElementById("bundle-words").dataset;
  var main = document.getElementById("statements");

  function element(name, attributes, text) {
    var made = document.createElement(name);
    Object.keys(attributes || {}).forEach(function (key) {
      made.setAttribute(key, attributes[key]);
    });
    if (text) made.textContent = text;
    return made;
  }

  function say(text) {
    main.textContent = "";
    main.appendChild(element("p", { "class": "problem" }, text));
  }

  // The record an envelope carries, when it is one this viewer can show; null otherwise.
  function recordOf(envelope) {
    if (!envelope || typeof envelope.payload !== "string") return null;
    var record;
    try {
      record = JSON.parse(envelope.payload);
    } catch {
      return null;
    }
    if (!record || (record.type !== "statement" && record.type !== "withdrawal")) return null;
    if (typeof record.id !== "string" || typeof record.article_html !== "string") return null;
    return record;
  }

  function later(a, b) {
    var ea = Number(a.epoch) || 0, eb = Number(b.epoch) || 0;
    return ea !== eb ? ea > eb : (Number(a.seq) || 0) > (Number(b.seq) || 0);
  }

  // Keep only what the article needs to be read: no element that runs, loads or submits anything, no
  // event handler or style, and links only to whole addresses elsewhere (relative ones lead nowhere here).
  function cleaned(body) {
    Array.prototype.slice.call(body.querySelectorAll(REMOVED)).forEach(function (node) {
      node.parentNode.removeChild(node);
    });
    Array.prototype.slice.call(body.querySelectorAll("*")).forEach(function (node) {
      Array.prototype.slice.call(node.attributes).forEach(function (attribute) {
        var name = attribute.name.toLowerCase();
        var value = attribute.value.trim().toLowerCase();
        var keep = !/^on/.test(name) && name !== "style" && name !== "srcset" && name !== "src" &&
          name !== "action" && name !== "formaction" && name !== "xlink:href" && name !== "ping";
        if (name === "href") keep = /^(https?:|mailto:)/.test(value);
        if (name === "src") keep = node.tagName === "IMG" && /^data:image\/(png|gif|jpeg|webp);/.test(value);
        if (!keep) node.removeAttribute(attribute.name);
      });
      if (node.tagName === "A" && node.hasAttribute("href")) node.setAttribute("rel", "noopener noreferrer");
    });
    return body;
  }

  function article(record) {
    var parsed = new DOMParser().parseFromString(record.article_html, "text/html");
    var fragment = document.createDocumentFragment();
    Array.prototype.slice.call(cleaned(parsed.body).childNodes).forEach(function (node) {
      fragment.appendChild(document.importNode(node, true));
    });
    return fragment;
  }

  function show(data) {
    var newest = {};
    var order = [];
    (Array.isArray(data.records) ? data.records : []).forEach(function (envelope) {
      var record = recordOf(envelope);
      if (!record) return;
      if (!newest[record.id]) order.push(record.id);
      if (!newest[record.id] || later(record, newest[record.id])) newest[record.id] = record;
    });
    main.textContent = "";
    if (!order.length) {
      say(words.empty);
      return;
    }
    var contents = element("nav", { "aria-label": words.contents });
    contents.appendChild(element("h2", {}, words.contents));
    var list = contents.appendChild(element("ol"));
    main.appendChild(contents);
    order.forEach(function (id, n) {
      var record = newest[id];
      var anchor = "s" + (n + 1);
      var title = typeof record.title === "string" ? record.title : "";
      var item = list.appendChild(element("li"));
      var link = item.appendChild(element("a", { href: "#" + anchor }, title));
      if (typeof record.lang === "string" && LANG.test(record.lang)) link.setAttribute("lang", record.lang);
      if (record.type === "withdrawal") item.appendChild(element("span", { "class": "withdrawn" }, " · " + words.withdrawn));
      var section = element("section", { id: anchor, "class": "record " + record.type });
      if (typeof record.lang === "string" && LANG.test(record.lang)) section.setAttribute("lang", record.lang);
      if (record.dir === "rtl" || record.dir === "ltr") section.setAttribute("dir", record.dir);
      if (record.type === "withdrawal") section.appendChild(element("p", { "class": "was" }, title));
      section.appendChild(article(record));
      main.appendChild(section);
    });
  }

  try {
    show(JSON.parse(document.getElementById("bulletin-bundle").textContent));
  } catch {
    say(words.unreadable);
  }
})();
