"""Signed documents for checking a device's verifier against :mod:`bulletin.signing.verifier`.

Each case is a list of steps (a certificate, revocation or ``root`` record to
accept, an index or a record to accept, a file to check against its digest),
run from a device that pins one root; the Python verifier's verdict for each
step (the document or key id accepted, or the reason code of the refusal) and
its state at the end are the expected answers. The browser's verifier
(``static/js/verify.js``) must give the same ones. Keys are made afresh each
time: nothing here is a secret.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import unicodedata

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin.signing import certificates, envelopes, keys, revocations, rotation, times
from bulletin.signing.reasons import Rejected
from bulletin.signing.verifier import Verifier

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

# Text a canonical form must carry byte for byte: emoji, bidirectional marks,
# U+2028, control characters, quotes, decomposed letters (older revisions).
TEXTS = (
    "emoji 😀👩🏽‍⚕️ and a flag 🇰🇿",
    "right-to-left \u200f\u200e الحرية",
    "separators \u2028 \u2029 and controls \x00\x01\x1f\x7f\t\n",
    'quotes " and \\ and /',
    unicodedata.normalize("NFD", "Déclaration — свобода й ё"),
)


class Keys:
    """A publisher's keys: the root, a later root, and online keys in every condition a device meets."""

    def __init__(self):
        self.root = keys.generate()
        self.new_root = keys.generate()
        self.online = keys.generate()  # certified for a year
        self.short = keys.generate()  # certified for a day: expired at the trusted time of later indexes
        self.revoked = keys.generate()  # certified, then revoked
        self.stranger = keys.generate()  # never certified
        self.next_online = keys.generate()  # certified by the new root

    def setup(self) -> list[dict]:
        """What a device accepts first: the certificates and the revocation /keys.json serves."""
        return [
            step("certificate", certify(self.root, self.online, 365 * DAY)),
            step("certificate", certify(self.root, self.short, DAY)),
            step("certificate", certify(self.root, self.revoked, 365 * DAY)),
            step("revocation", revocations.revoke(self.root, kid(self.revoked), at=T0)),
        ]


MIRRORS = ["https://m1.example/"]


def kid(key: Ed25519PrivateKey) -> str:
    return keys.key_id(keys.raw_public(key))


def certify(root: Ed25519PrivateKey, online: Ed25519PrivateKey, lasting: dt.timedelta) -> dict:
    return certificates.certify(root, online.public_key(), issued=T0, expires=T0 + lasting)


def step(op: str, envelope: object = None, **extra) -> dict:
    return {"op": op, "envelope": envelope, **extra}


def record(key: Ed25519PrivateKey, *, seq: int = 7, epoch: int = 3, n: int = 0, **fields) -> dict:
    """A statement's signed record with every field of the contract."""
    document = {
        "type": "statement",
        "v": 1,
        "id": f"statement-{n}",
        "revision": 1,
        "epoch": epoch,
        "seq": seq,
        "slug": f"s{n}",
        "lang": "en",
        "dir": "ltr",
        "translation_group": f"group-{n}",
        "title": f"Statement {n}: {TEXTS[n % len(TEXTS)]}",
        "summary": TEXTS[(n + 1) % len(TEXTS)],
        "tags": ["press", "water"],
        "published": "2026-02-28",
        "updated": None,
        "correction_note": None,
        "article_html": f'<p>{TEXTS[(n + 2) % len(TEXTS)]}</p><p><a href="../s{n + 1}/">next</a></p>',
        "withdrawn_at": None,
        "reason": None,
    }
    document.update(fields)
    return envelopes.sign(document, key)


def index(
    key: Ed25519PrivateKey, *, epoch: int = 3, seq: int = 10, at: dt.datetime = T0 + HOUR, **fields
) -> dict:
    document = {"type": "sync-index", "v": 1, "epoch": epoch, "seq": seq, "signed_at": times.instant(at)}
    document.update(fields)
    return envelopes.sign(document, key)


def mirror_list(
    key: Ed25519PrivateKey, *, seq: int = 5, at: dt.datetime = T0 + HOUR, mirrors: object = MIRRORS, **fields
) -> dict:
    """A signed mirror list (``mirrors`` as given, a list or not)."""
    document = {"type": "mirrors", "v": 1, "seq": seq, "signed_at": times.instant(at), "mirrors": mirrors}
    document.update(fields)
    return envelopes.sign(document, key)


def signed_text(payload: str, key: Ed25519PrivateKey) -> dict:
    """An envelope of ``payload`` exactly as given (canonical or not), validly signed."""
    return envelopes.signed_payload(payload, key)


def altered(envelope: dict, **parts) -> dict:
    changed = copy.deepcopy(envelope)
    changed.update(parts)
    return changed


def flip_payload(envelope: dict) -> dict:
    """One byte of the payload changed, the text still canonical JSON."""
    payload = envelope["payload"]
    at = payload.index('"slug":"') + len('"slug":"')
    return altered(envelope, payload=payload[:at] + chr(ord(payload[at]) ^ 1) + payload[at + 1 :])


def flip_signature(envelope: dict) -> dict:
    raw = bytearray(keys.b64url_decode(envelope["sig"]))
    raw[10] ^= 1
    return altered(envelope, sig=keys.b64url(bytes(raw)))


def cases(k: Keys) -> list[tuple[str, list[dict]]]:
    """Every case: a name and the steps after the setup."""
    good = record(k.online)
    later_index = index(k.online, seq=20, at=T0 + 2 * DAY)  # past the short key's expiry
    withdrawal = record(
        k.online,
        n=1,
        type="withdrawal",
        withdrawn_at="2026-03-01T10:00:00Z",
        reason="Published in error",
        article_html="<p>Withdrawn.</p>",
    )
    text = good["payload"]
    non_canonical = [
        ("whitespace", text.replace(",", ", ", 1)),
        ("keys out of order", '{"v":1,' + text[1:].replace(',"v":1', "")),
        ("a float", text.replace('"seq":7', '"seq":7.0')),
        ("an exponent", text.replace('"seq":7', '"seq":7e0')),
        ("an integer beyond 2^53-1", text.replace('"seq":7', '"seq":9007199254740993')),
        ("a lone surrogate", text.replace('"slug":"s0"', '"slug":"\\ud800"')),
        ("a key not ASCII", text.replace('"slug":', '"slüg":')),
        ("a duplicate key", text.replace('"seq":7', '"seq":7,"seq":7')),
        ("an escaped slash", text.replace('"slug":"s0"', '"slug":"s\\/0"')),
        ("an escaped letter", text.replace('"slug":"s0"', '"slug":"\\u0073\\u0030"')),
        ("an upper-case escape", text.replace("\\u001f", "\\u001F")),
        ("an escaped newline in long form", text.replace("\\n", "\\u000a")),
        ("not JSON", text[:-1]),
        ("not an object", "[1,2]"),
    ]
    found = [
        ("a good statement", [step("record", good, stored=None)]),
        ("a good withdrawal", [step("record", withdrawal, stored=None)]),
        ("a flipped payload byte", [step("record", flip_payload(good), stored=None)]),
        ("a flipped signature byte", [step("record", flip_signature(good), stored=None)]),
        ("an uncertified key", [step("record", record(k.stranger), stored=None)]),
        ("a revoked key", [step("record", record(k.revoked), stored=None)]),
        ("a key expired at the trusted time", [step("index", later_index), step("record", record(k.short))]),
        ("a key expired by the clock only", [step("record", record(k.short), stored=None)]),
        (
            "a newer index, then an older valid one",
            [step("index", later_index), step("index", index(k.online))],
        ),
        (
            "indexes by epoch, seq and signed_at",
            [
                step("index", index(k.online, epoch=3, seq=10, at=T0 + HOUR)),
                step("index", index(k.online, epoch=3, seq=10, at=T0 + HOUR)),  # the same again: not older
                step("index", index(k.online, epoch=3, seq=10, at=T0 + 2 * HOUR)),  # re-signed, nothing new
                step("index", index(k.online, epoch=3, seq=10, at=T0 + HOUR)),  # rollback by signed_at
                step("index", index(k.online, epoch=4, seq=1, at=T0 + HOUR)),  # a new epoch: forward
                step("index", index(k.online, epoch=3, seq=99, at=T0 + 3 * HOUR)),  # rollback by epoch
            ],
        ),
        (
            "records against what the device holds",
            [
                step("record", good, stored={"epoch": 3, "seq": 7}),
                step("record", good, stored={"epoch": 3, "seq": 8}),
                step("record", good, stored={"epoch": 2, "seq": 900}),
                step("record", good, stored={"epoch": 4, "seq": 1}),
            ],
        ),
        (
            "mirror lists by seq",
            [
                step("mirrors", mirror_list(k.online, seq=5)),
                step("mirrors", mirror_list(k.online, seq=5)),  # the held list again: no news, no refusal
                step("mirrors", mirror_list(k.online, seq=5, mirrors=["https://other.example/"])),  # rollback
                step("mirrors", mirror_list(k.online, seq=4, at=T0 + 2 * HOUR)),  # replayed older: rollback
                step("mirrors", mirror_list(k.online, seq=6, at=T0 + 3 * HOUR, mirrors=[])),  # forward
            ],
        ),
        ("a mirror list by an uncertified key", [step("mirrors", mirror_list(k.stranger))]),
        ("a mirror list by a revoked key", [step("mirrors", mirror_list(k.revoked))]),
        ("a mirror list of numbers", [step("mirrors", mirror_list(k.online, mirrors=[1, 2]))]),
        ("a mirror list with no list", [step("mirrors", mirror_list(k.online, mirrors=None))]),
        ("a mirror list with a negative seq", [step("mirrors", mirror_list(k.online, seq=-3))]),
        ("a mirror list where an index belongs", [step("index", mirror_list(k.online))]),
        ("an index where a mirror list belongs", [step("mirrors", index(k.online))]),
        ("an index where a record belongs", [step("record", index(k.online), stored=None)]),
        ("a record where an index belongs", [step("index", good)]),
        (
            "a root record signed by the pinned root",
            [
                step("root", rotation.rotate(k.root, k.new_root.public_key(), at=T0 + HOUR)),
                step("certificate", certify(k.new_root, k.next_online, 30 * DAY)),
                step("record", record(k.next_online), stored=None),
                step("certificate", certify(k.root, k.stranger, 30 * DAY)),  # the old root no longer counts
                step("revocation", revocations.revoke(k.new_root, kid(k.online), at=T0 + HOUR)),
                step("record", good, stored=None),
            ],
        ),
        (
            "a root record signed by another key",
            [
                step("root", rotation.rotate(k.stranger, k.new_root.public_key(), at=T0 + HOUR)),
                step("certificate", certify(k.new_root, k.next_online, 30 * DAY)),
            ],
        ),
        ("a certificate signed by an online key", [step("certificate", certify(k.online, k.stranger, DAY))]),
        (
            "a revocation from anywhere, never forgotten",
            [
                step("record", good, stored=None),
                step("revocation", revocations.revoke(k.root, kid(k.online), at=T0 + HOUR)),
                step("certificate", certify(k.root, k.online, 365 * DAY)),
                step("record", good, stored=None),
            ],
        ),
        (
            "a revocation signed by another key",
            [step("revocation", revocations.revoke(k.stranger, kid(k.online), at=T0))],
        ),
        (
            "files and their digests",
            [
                step("file", data=keys.b64url(b"sync file"), sha256=hashlib.sha256(b"sync file").hexdigest()),
                step("file", data=keys.b64url(b"sync filf"), sha256=hashlib.sha256(b"sync file").hexdigest()),
            ],
        ),
        ("a certificate whose key id is not its key's", [step("certificate", mismatched_certificate(k))]),
        (
            "a certificate with a bad expiry",
            [step("certificate", certificate_with(k, expires="2026-02-30T00:00:00Z"))],
        ),
        ("an index with a bad signed_at", [step("index", index(k.online, signed_at="2026-03-01T24:00:00Z"))]),
        ("an index with a negative seq", [step("index", index(k.online, seq=-1))]),
        ("a record with no id", [step("record", record(k.online, id=None), stored=None)]),
        ("a record with seq true", [step("record", record(k.online, seq=True), stored=None)]),
        ("a record of version 2", [step("record", record(k.online, v=2), stored=None)]),
        (
            "a record of version true",
            [step("record", signed_text(text.replace('"v":1', '"v":true'), k.online))],
        ),
        ("a record of an unknown type", [step("record", record(k.online, type="mirrors"), stored=None)]),
        ("padded base64 signature", [step("record", altered(good, sig=good["sig"] + "=="), stored=None)]),
        (
            "a standard-alphabet signature",
            [step("record", altered(good, sig="+" + good["sig"][1:]), stored=None)],
        ),
        (
            "stray bits in the signature's last character",
            [
                step(
                    "record", altered(good, sig=good["sig"][:-1] + chr(ord(good["sig"][-1]) + 1)), stored=None
                )
            ],
        ),
        ("a short signature", [step("record", altered(good, sig=good["sig"][:-4]), stored=None)]),
        ("an envelope with one more part", [step("record", {**good, "extra": 1}, stored=None)]),
        (
            "an envelope missing its kid",
            [step("record", {"payload": good["payload"], "sig": good["sig"]}, stored=None)],
        ),
        ("an envelope whose sig is a number", [step("record", altered(good, sig=5), stored=None)]),
        (
            "not an envelope",
            [
                step("record", [good], stored=None),
                step("record", None, stored=None),
                step("record", "x", stored=None),
            ],
        ),
    ]
    for name, payload in non_canonical:
        found.append(
            (
                f"a validly signed payload with {name}",
                [step("record", signed_text(payload, k.online), stored=None)],
            )
        )
    return found


def mismatched_certificate(k: Keys) -> dict:
    document = {
        "type": "certificate",
        "v": 1,
        **keys.description(keys.raw_public(k.stranger)),
        "issued": times.instant(T0),
        "expires": times.instant(T0 + DAY),
        "root": kid(k.root),
    }
    document["kid"] = kid(k.online)
    return envelopes.sign(document, k.root)


def certificate_with(k: Keys, **fields) -> dict:
    document = json.loads(certify(k.root, k.stranger, DAY)["payload"])
    document.update(fields)
    return envelopes.sign(document, k.root)


# ------------------------------------------------------------------ the Python verifier's answers


def run(pinned_root: bytes, steps: list[dict]) -> dict:
    """The Python verifier's verdict for each step, and its state at the end."""
    device = Verifier(pinned_root)
    verdicts = [_verdict(device, s) for s in steps]
    return {"verdicts": verdicts, "state": state_of(device)}


def _verdict(device: Verifier, s: dict) -> dict:
    op = s["op"]
    try:
        if op == "certificate":
            value = device.add_certificate(s["envelope"])
        elif op == "revocation":
            value = device.add_revocation(s["envelope"])
        elif op == "root":
            value = device.follow_root(s["envelope"])
        elif op == "index":
            value = device.accept_index(s["envelope"])
        elif op == "mirrors":
            value = device.accept_mirrors(s["envelope"])
        elif op == "record":
            device.records.clear()
            stored = s.get("stored")
            if stored:
                statement_id = json.loads(s["envelope"]["payload"])["id"]
                device.records[statement_id] = (stored["epoch"], stored["seq"])
            value = device.accept_record(s["envelope"])
        elif op == "file":
            device.check_file(keys.b64url_decode(s["data"]), s["sha256"])
            value = "ok"
        else:
            raise ValueError(f"unknown step {op}")
    except Rejected as rejected:
        return {"ok": False, "reason": rejected.reason}
    return {"ok": True, "value": value}


def state_of(device: Verifier) -> dict:
    """What a device's state says, in the JavaScript verifier's terms."""
    return {
        "root": keys.b64url(device.root),
        "keys": {
            kid: {"public_key": keys.b64url(c.public_key), "expires": times.instant(c.expires)}
            for kid, c in device.keys.items()
        },
        "revoked": {kid: True for kid in device.revoked},
        "trustedTime": times.instant(device.trusted_time) if device.trusted_time else None,
        "newestIndex": list(device.newest_index) if device.newest_index else None,
        "mirrors": list(device.mirrors) if device.mirrors else None,
        "refused": dict(device.refused),
    }


def vectors() -> dict:
    """``{"root": base64url of the pinned root, "cases": [{"name", "steps", "expected"}]}``."""
    k = Keys()
    root = keys.raw_public(k.root)
    found = []
    for name, steps in cases(k):
        all_steps = k.setup() + steps
        found.append({"name": name, "steps": all_steps, "expected": run(root, all_steps)})
    return {"root": keys.b64url(root), "cases": found}


def many_records(count: int) -> dict:
    """``count`` distinct records by one certified key, with what a device needs first: for benchmarks."""
    k = Keys()
    return {
        "root": keys.b64url(keys.raw_public(k.root)),
        "setup": k.setup(),
        "records": [record(k.online, n=n, id=f"statement-{n}", seq=n + 1) for n in range(count)],
    }
