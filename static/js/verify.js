/* exported BulletinVerify */
// The device's verifier: the rules of bulletin/signing/verifier.py, for the
// worker (and for the pages of the tests), with the same reason codes.
//
// Pure: it fetches nothing and stores nothing. Its state (the pinned root,
// the keys the root certified, the keys it revoked, the trusted time, the
// newest index verified, refusals counted) is a plain object the caller
// keeps wherever it likes (the worker: OfflineStore's meta) and gives back
// the next time. Every refusal rejects with an error whose `reason` is one
// of REASONS. Signatures are checked over the payload's UTF-8 bytes as
// received; the document read is JSON.parse of that text, never a copy
// written again.
//
// Ed25519 is WebCrypto's where the browser has it; elsewhere the fallback
// library (the bundle `ed25519`, which defines `nobleEd25519`) must have
// been loaded first: see `hasWebCryptoEd25519` and `create`'s `backend`.
var BulletinVerify = (function () {
  "use strict";

  var REASONS = {
    badSignature: "bad-signature",
    unknownKey: "unknown-key",
    expiredKey: "expired-key",
    revokedKey: "revoked-key",
    hashMismatch: "hash-mismatch",
    malformed: "malformed",
    rollback: "rollback",
  };
  var RECORD_TYPES = ["statement", "withdrawal"];
  var INDEX_TYPE = "sync-index";
  var MIRRORS_TYPE = "mirrors";
  var MAX_INTEGER = 9007199254740991; // 2^53 - 1
  var SIGNATURE_BYTES = 64;
  var PUBLIC_KEY_BYTES = 32;
  var INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
  var BASE64URL = /^[A-Za-z0-9_-]*$/;
  var utf8 = new TextEncoder();

  function Refused(reason, message) {
    var error = new Error(reason + ": " + message);
    error.name = "Refused";
    error.reason = reason;
    return error;
  }

  // ---------------------------------------------------------------- text forms

  function b64urlEncode(bytes) {
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The bytes of unpadded, canonical base64url (keys.b64url_decode); throws otherwise.
  function b64urlDecode(text) {
    if (typeof text !== "string" || !BASE64URL.test(text) || text.length % 4 === 1) {
      throw new Error("not unpadded base64url");
    }
    var binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    if (b64urlEncode(bytes) !== text) throw new Error("not canonical base64url");
    return bytes;
  }

  function isWellFormed(text) {
    for (var i = 0; i < text.length; i++) {
      var unit = text.charCodeAt(i);
      if (unit >= 0xd800 && unit <= 0xdbff) {
        var next = text.charCodeAt(i + 1);
        if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
        i++;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        return false;
      }
    }
    return true;
  }

  // The canonical text of a parsed value (bulletin/signing/canonical.py's
  // rules), used only to compare with the text received: a payload that is
  // not already canonical was not made by a publisher.
  function canonicalText(value) {
    if (value === null) return "null";
    if (value === true || value === false) return String(value);
    if (typeof value === "number") {
      if (!Number.isInteger(value)) throw new Error("a number that is not an integer");
      if (Math.abs(value) > MAX_INTEGER) throw new Error("an integer beyond 2^53-1");
      return String(value === 0 ? 0 : value);
    }
    if (typeof value === "string") {
      if (!isWellFormed(value)) throw new Error("a lone surrogate");
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return "[" + value.map(canonicalText).join(",") + "]";
    var names = Object.keys(value).sort();
    return (
      "{" +
      names
        .map(function (name) {
          // eslint-disable-next-line no-control-regex
          if (!/^[\x00-\x7f]*$/.test(name)) throw new Error("a key that is not ASCII");
          return JSON.stringify(name) + ":" + canonicalText(value[name]);
        })
        .join(",") +
      "}"
    );
  }

  function parseCanonical(text) {
    var value;
    try {
      value = JSON.parse(text);
    } catch {
      throw Refused(REASONS.malformed, "not JSON");
    }
    var again;
    try {
      again = canonicalText(value);
    } catch (error) {
      throw Refused(REASONS.malformed, error.message);
    }
    if (again !== text) throw Refused(REASONS.malformed, "not in canonical form");
    return value;
  }

  // An instant as documents write it, checked to be a real one (times.parse).
  function instant(document, name) {
    var text = document[name];
    var parts = typeof text === "string" && INSTANT.exec(text);
    if (parts) {
      var n = parts.slice(1).map(Number);
      var date = new Date(0);
      date.setUTCFullYear(n[0], n[1] - 1, n[2]);
      date.setUTCHours(n[3], n[4], n[5]);
      var real =
        n[0] >= 1 &&
        date.getUTCFullYear() === n[0] &&
        date.getUTCMonth() === n[1] - 1 &&
        date.getUTCDate() === n[2] &&
        date.getUTCHours() === n[3] &&
        date.getUTCMinutes() === n[4] &&
        date.getUTCSeconds() === n[5];
      if (real) return text; // text order is time order
    }
    throw Refused(REASONS.malformed, name + ": not an instant of the form YYYY-MM-DDTHH:MM:SSZ");
  }

  function whole(document, name) {
    var value = document[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw Refused(REASONS.malformed, name + " must be a whole number");
    }
    return value;
  }

  // -1, 0 or 1: tuples of numbers and instants compared in order.
  function compare(a, b) {
    for (var i = 0; i < a.length; i++) {
      if (a[i] < b[i]) return -1;
      if (a[i] > b[i]) return 1;
    }
    return 0;
  }

  function sha256(bytes) {
    return crypto.subtle.digest("SHA-256", bytes).then(function (digest) {
      return new Uint8Array(digest);
    });
  }

  function keyId(raw) {
    return sha256(raw).then(function (digest) {
      return b64urlEncode(digest).slice(0, 16);
    });
  }

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  // ---------------------------------------------------------------- Ed25519

  var webCrypto = {
    name: "webcrypto",
    keys: {},
    verify: function (raw, signature, message) {
      var id = b64urlEncode(raw);
      var key = this.keys[id];
      if (!key) {
        key = this.keys[id] = crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
      }
      return key.then(function (imported) {
        return crypto.subtle.verify({ name: "Ed25519" }, imported, signature, message);
      });
    },
  };

  var fallback = {
    name: "fallback",
    verify: function (raw, signature, message) {
      // RFC 8032's strict rules, as the publisher's own check (OpenSSL) and WebCrypto apply them.
      return self.nobleEd25519.verifyAsync(signature, message, raw, { zip215: false }).catch(function () {
        return false;
      });
    },
  };

  // A real key and signature, so the test is of verification itself (RFC 8032, test 1).
  var PROBE_KEY = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
  var PROBE_SIGNATURE =
    "5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7rMYeOXAc-bRr0lv18FlbviRlUUFDjnoQCw";

  // Whether this browser's WebCrypto verifies Ed25519 signatures (a promise of true or false).
  function hasWebCryptoEd25519() {
    try {
      return webCrypto
        .verify(b64urlDecode(PROBE_KEY), b64urlDecode(PROBE_SIGNATURE), new Uint8Array(0))
        .then(
          function (ok) {
            return ok === true;
          },
          function () {
            return false;
          }
        );
    } catch {
      return Promise.resolve(false);
    }
  }

  // ---------------------------------------------------------------- loading the fallback in a worker
  //
  // A service worker imports a script with a new address only while it is
  // first evaluated or installing, and whether WebCrypto has Ed25519 is known
  // only asynchronously: so the fallback is imported inside the install
  // event's waitUntil, where it is needed, and again at each later start.

  // At the top of the worker's script: the fallback library again on each
  // later start of a worker that imported it while installing (the browser
  // kept it with the worker's scripts). Nothing on the first evaluation; where
  // it was never imported, the import fails at once (a NetworkError, no
  // request). A browser that does not say its worker's state imports it at
  // every start. Whether the library is there.
  function importFallbackAtStart(url) {
    var worker = self.serviceWorker;
    if (worker && worker.state === "parsed") return false;
    try {
      self.importScripts(url);
    } catch {
      return false;
    }
    return true;
  }

  // Inside the install event's waitUntil: the fallback library, only where
  // WebCrypto lacks Ed25519 (or `force`, for tests). A promise of the backend to use.
  function importFallbackAtInstall(url, force) {
    return hasWebCryptoEd25519().then(function (has) {
      if (has && !force) return "webcrypto";
      if (!self.nobleEd25519) self.importScripts(url);
      return "fallback";
    });
  }

  // The backend to verify with: WebCrypto's where it has Ed25519, else the
  // fallback library (which must be loaded). A promise.
  function chooseBackend(force) {
    return hasWebCryptoEd25519().then(function (has) {
      return has && force !== "fallback" ? "webcrypto" : "fallback";
    });
  }

  // ---------------------------------------------------------------- envelopes

  // The parts of an envelope and its parsed payload, whose type must be one of
  // `types` (envelopes.open_envelope); nothing in it is trusted yet.
  function open(value, types) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw Refused(REASONS.malformed, "an envelope has exactly payload, sig and kid");
    }
    var names = Object.keys(value).sort();
    if (names.join(",") !== "kid,payload,sig") {
      throw Refused(REASONS.malformed, "an envelope has exactly payload, sig and kid");
    }
    if (typeof value.payload !== "string" || typeof value.sig !== "string" || typeof value.kid !== "string") {
      throw Refused(REASONS.malformed, "an envelope's parts are strings");
    }
    var signature;
    try {
      signature = b64urlDecode(value.sig);
    } catch (error) {
      throw Refused(REASONS.malformed, error.message);
    }
    var document = parseCanonical(value.payload);
    if (signature.length !== SIGNATURE_BYTES) throw Refused(REASONS.malformed, "an Ed25519 signature is 64 bytes");
    if (document === null || typeof document !== "object" || Array.isArray(document)) {
      throw Refused(REASONS.malformed, "expected a document of type " + types.join(" or "));
    }
    if (types.indexOf(document.type) < 0) {
      throw Refused(REASONS.malformed, "expected a document of type " + types.join(" or "));
    }
    if (document.v !== 1) throw Refused(REASONS.malformed, "unknown version");
    return { payload: value.payload, document: document, signature: signature, kid: value.kid };
  }

  // The raw public key a document names, checked against its key id.
  function publicKeyOf(document) {
    var raw;
    try {
      raw = b64urlDecode(document.public_key);
    } catch (error) {
      return Promise.reject(Refused(REASONS.malformed, "not a public key: " + error.message));
    }
    if (raw.length !== PUBLIC_KEY_BYTES) {
      return Promise.reject(Refused(REASONS.malformed, "not a public key: an Ed25519 public key is 32 bytes"));
    }
    return keyId(raw).then(function (kid) {
      if (document.kid !== kid) throw Refused(REASONS.malformed, "the key id is not the public key's");
      return raw;
    });
  }

  // ---------------------------------------------------------------- the verifier

  // A new device's state, pinning the root whose raw public key is `rootPublicKey` (base64url).
  function initialState(rootPublicKey) {
    var raw = b64urlDecode(rootPublicKey);
    if (raw.length !== PUBLIC_KEY_BYTES) throw new Error("an Ed25519 public key is 32 bytes");
    return {
      root: rootPublicKey, // base64url of the pinned root's raw public key
      keys: {}, // kid -> {public_key, expires}: certified by a pinned root
      revoked: {}, // kid -> true, for good
      trustedTime: null, // the newest signed_at verified
      newestIndex: null, // [epoch, seq, signed_at] of the newest index verified
      mirrors: null, // [seq, payload] of the mirror list held
      refused: {}, // reason -> how many refusals
    };
  }

  // The state to verify with: the one kept on the device when there is one,
  // whatever root this worker was built with (a worker update never replaces
  // the pin; only a `root` record signed by the pinned root does), else a new
  // device's pinning `builtInRoot`. Every field a kept state lacks (one kept by
  // an older worker) starts empty.
  function stateFor(kept, builtInRoot) {
    if (!kept || typeof kept.root !== "string") return initialState(builtInRoot);
    var fresh = initialState(kept.root);
    Object.keys(fresh).forEach(function (name) {
      if (kept[name] !== undefined) fresh[name] = kept[name];
    });
    return fresh;
  }

  // A verifier over `state` (initialState's, or one kept from before), which it
  // changes in place as it accepts documents; `backend` is WebCrypto's
  // ("webcrypto", the default) or the fallback library's ("fallback").
  function Verifier(state, backend) {
    this.state = state;
    this.ed25519 = backend === "fallback" ? fallback : webCrypto;
    this.rootKid = null;
  }

  Verifier.prototype.backend = function () {
    return this.ed25519.name;
  };

  // Every refusal passes here: counted, then thrown on.
  Verifier.prototype.counted = function (promise) {
    var state = this.state;
    return promise.catch(function (error) {
      if (error && error.name === "Refused") state.refused[error.reason] = (state.refused[error.reason] || 0) + 1;
      throw error;
    });
  };

  Verifier.prototype.checkSignature = function (opened, raw) {
    return this.ed25519.verify(raw, opened.signature, utf8.encode(opened.payload)).then(function (ok) {
      if (ok !== true) {
        throw Refused(REASONS.badSignature, "the signature by " + opened.kid + " does not match the payload");
      }
      return opened.document;
    });
  };

  Verifier.prototype.byRoot = function (envelope, kind) {
    var verifier = this;
    var root = b64urlDecode(verifier.state.root);
    return Promise.resolve()
      .then(function () {
        var opened = open(envelope, [kind]);
        return keyId(root).then(function (rootKid) {
          if (opened.kid !== rootKid) {
            throw Refused(REASONS.unknownKey, "a " + kind + " must be signed by the pinned root, not " + opened.kid);
          }
          return verifier.checkSignature(opened, root);
        });
      });
  };

  // Pin the root a `root` record signed by the pinned root names; its key id.
  Verifier.prototype.followRoot = function (envelope) {
    var verifier = this;
    return verifier.counted(
      verifier.byRoot(envelope, "root").then(function (document) {
        return publicKeyOf(document).then(function (raw) {
          verifier.state.root = b64urlEncode(raw);
          return document.kid;
        });
      })
    );
  };

  // Accept an online key's certificate signed by the pinned root; the key's id.
  Verifier.prototype.addCertificate = function (envelope) {
    var verifier = this;
    return verifier.counted(
      verifier.byRoot(envelope, "certificate").then(function (document) {
        return publicKeyOf(document).then(function (raw) {
          var expires = instant(document, "expires");
          verifier.state.keys[document.kid] = { public_key: b64urlEncode(raw), expires: expires };
          return document.kid;
        });
      })
    );
  };

  // Remember for good that the pinned root revoked a key, whatever brought the revocation; its id.
  Verifier.prototype.addRevocation = function (envelope) {
    var verifier = this;
    return verifier.counted(
      verifier.byRoot(envelope, "revocation").then(function (document) {
        if (typeof document.kid !== "string") throw Refused(REASONS.malformed, "a revocation names a key id");
        verifier.state.revoked[document.kid] = true;
        return document.kid;
      })
    );
  };

  // The document of an envelope of one of `types`, signed by an accepted, unrevoked, unexpired key.
  Verifier.prototype.verify = function (envelope, types) {
    return this.counted(this.verified(envelope, types));
  };

  Verifier.prototype.verified = function (envelope, types) {
    var verifier = this;
    return Promise.resolve().then(function () {
      var opened = open(envelope, types);
      if (verifier.state.revoked[opened.kid] === true) {
        throw Refused(REASONS.revokedKey, "key " + opened.kid + " was revoked");
      }
      var certified = Object.prototype.hasOwnProperty.call(verifier.state.keys, opened.kid) && verifier.state.keys[opened.kid];
      if (!certified) {
        throw Refused(REASONS.unknownKey, "no certificate from the pinned root names key " + opened.kid);
      }
      if (verifier.state.trustedTime !== null && certified.expires <= verifier.state.trustedTime) {
        throw Refused(REASONS.expiredKey, "key " + opened.kid + " expired at " + certified.expires);
      }
      return verifier.checkSignature(opened, b64urlDecode(certified.public_key));
    });
  };

  // A signed sync index no older (by epoch, seq, signed_at) than the newest
  // verified; moves the trusted time forward. Its document.
  Verifier.prototype.acceptIndex = function (envelope) {
    var verifier = this;
    return verifier.verify(envelope, [INDEX_TYPE]).then(function (document) {
      return verifier.counted(
        Promise.resolve().then(function () {
          var signedAt = instant(document, "signed_at");
          var at = [whole(document, "epoch"), whole(document, "seq"), signedAt];
          if (verifier.state.newestIndex !== null && compare(at, verifier.state.newestIndex) < 0) {
            throw Refused(REASONS.rollback, "an index older than the newest one verified");
          }
          verifier.state.newestIndex = at;
          verifier.observe(signedAt);
          return document;
        })
      );
    });
  };

  // A statement's or withdrawal's record no older (by epoch, seq) than
  // `stored` ({epoch, seq} of the record the device holds for that
  // statement, or null). Its document.
  Verifier.prototype.acceptRecord = function (envelope, stored) {
    var verifier = this;
    return verifier.verify(envelope, RECORD_TYPES).then(function (document) {
      return verifier.counted(
        Promise.resolve().then(function () {
          if (typeof document.id !== "string") throw Refused(REASONS.malformed, "a record names its statement's id");
          var at = [whole(document, "epoch"), whole(document, "seq")];
          if (stored && compare(at, [stored.epoch, stored.seq]) < 0) {
            throw Refused(REASONS.rollback, "an older record of statement " + document.id);
          }
          return document;
        })
      );
    });
  };

  // A signed mirror list whose seq is above the held one's: refused (rollback)
  // for an older list or another list under the held seq. The held list
  // itself, received again, is no news and no refusal. Its document.
  Verifier.prototype.acceptMirrors = function (envelope) {
    var verifier = this;
    return verifier.verify(envelope, [MIRRORS_TYPE]).then(function (document) {
      return verifier.counted(
        Promise.resolve().then(function () {
          var listed = document.mirrors;
          var strings = Array.isArray(listed) && listed.every(function (url) {
            return typeof url === "string";
          });
          if (!strings) throw Refused(REASONS.malformed, "a mirror list lists base URLs");
          var seq = whole(document, "seq");
          var signedAt = instant(document, "signed_at");
          var held = verifier.state.mirrors;
          if (held !== null && !(seq === held[0] && envelope.payload === held[1]) && seq <= held[0]) {
            throw Refused(REASONS.rollback, "a mirror list of seq " + seq + ", not above the held one's");
          }
          verifier.state.mirrors = [seq, envelope.payload];
          verifier.observe(signedAt);
          return document;
        })
      );
    });
  };

  // Move the trusted time to `signedAt` (an instant's text), never back.
  Verifier.prototype.observe = function (signedAt) {
    if (this.state.trustedTime === null || signedAt > this.state.trustedTime) this.state.trustedTime = signedAt;
  };

  // `bytes` (an ArrayBuffer or Uint8Array) when its SHA-256 is the hex digest an index named.
  Verifier.prototype.checkFile = function (bytes, digest) {
    return this.counted(
      sha256(bytes).then(function (actual) {
        if (hex(actual) !== digest) {
          throw Refused(REASONS.hashMismatch, "the file's bytes are not the ones its index names");
        }
        return bytes;
      })
    );
  };

  // Everything /keys.json (or any source) brings: root records in order
  // (oldest first), then revocations, then certificates; a revoked key stays
  // refused whatever certificate names it. Documents signed by a root no
  // longer pinned are refused (unknown-key) like any other. Refused documents are counted and skipped. A promise
  // of the refusals' reasons.
  Verifier.prototype.addKeys = function (published) {
    var verifier = this;
    var refused = [];
    var note = function (error) {
      if (!error || error.name !== "Refused") throw error;
      refused.push(error.reason);
    };
    var steps = [];
    (published.roots || []).forEach(function (envelope) {
      steps.push(function () {
        return verifier.followRoot(envelope).catch(note);
      });
    });
    (published.revocations || []).forEach(function (envelope) {
      steps.push(function () {
        return verifier.addRevocation(envelope).catch(note);
      });
    });
    (published.keys || []).forEach(function (entry) {
      steps.push(function () {
        return verifier.addCertificate(entry && entry.certificate).catch(note);
      });
    });
    return steps
      .reduce(function (done, step) {
        return done.then(step);
      }, Promise.resolve())
      .then(function () {
        return refused;
      });
  };

  return {
    REASONS: REASONS,
    initialState: initialState,
    stateFor: stateFor,
    importFallbackAtStart: importFallbackAtStart,
    importFallbackAtInstall: importFallbackAtInstall,
    chooseBackend: chooseBackend,
    hasWebCryptoEd25519: hasWebCryptoEd25519,
    // A verifier over `state`; `backend` "fallback" forces the library (tests, and browsers without Ed25519).
    create: function (state, backend) {
      if (backend === "fallback" && !(self.nobleEd25519 && self.nobleEd25519.verifyAsync)) {
        throw new Error("the Ed25519 fallback library is not loaded");
      }
      return new Verifier(state, backend);
    },
  };
})();
