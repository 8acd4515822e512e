"""The signing package: canonical JSON, envelopes, key ids, certificates and a device's verification rules."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import unicodedata

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from bulletin.signing import canonical, certificates, envelopes, keys, revocations, rotation
from bulletin.signing.reasons import Rejected
from bulletin.signing.verifier import Verifier

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


# ------------------------------------------------------------------ canonical JSON


TEXTS = [
    "plain",
    "emoji 😀👩🏽‍⚕️ and a flag 🇰🇿",
    "right-to-left marks \u200f\u200e and Arabic الحرية",
    "line and paragraph separators \u2028 \u2029",
    "every control character " + "".join(chr(c) for c in range(0x20)) + "\x7f",
    'quotes " and backslashes \\ and a slash /',
    unicodedata.normalize("NFD", "Déclaration — свобода й ё"),
]


@pytest.mark.parametrize("text", TEXTS)
def test_canonical_form_is_rfc8785s(text):
    value = {"z": text, "a": [1, -(2**53 - 1), 2**53 - 1, True, False, None], "m": {"y": text, "b": []}}
    assert canonical.encode(value) == rfc8785.dumps(value)
    assert canonical.loads(canonical.dumps(value)) == value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127), max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_form_equals_rfc8785_for_any_value(value):
    assert canonical.encode(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [1.5, 1.0, 2**53, -(2**53), {"a": float("nan")}, ["\ud800"], {"é": 1}, {1: "a"}, {"a": object()}],
)
def test_what_is_not_canonical_is_refused(value):
    with pytest.raises(canonical.CanonicalError):
        canonical.dumps(value)


@pytest.mark.parametrize(
    "text", ['{"b":1,"a":2}', '{"a": 1}', '{"a":1.0}', '{"a":1e3}', '{"a":"\\ud800"}', '{"a":1,"a":1}', "NaN"]
)
def test_parsing_refuses_what_a_publisher_never_signs(text):
    with pytest.raises(canonical.CanonicalError):
        canonical.loads(text)


# ------------------------------------------------------------------ keys


def test_key_id_and_fingerprint_are_the_sha256_of_the_raw_public_key():
    raw = bytes(range(32))
    digest = hashlib.sha256(raw).digest()
    import base64

    assert keys.key_id(raw) == base64.urlsafe_b64encode(digest).decode()[:16]
    assert len(keys.key_id(raw)) == 16 and "=" not in keys.key_id(raw)
    groups = keys.fingerprint(raw).split(" ")
    assert len(groups) == 10 and all(len(g) == 4 for g in groups)
    assert "".join(groups) == digest[:20].hex()


def test_base64url_is_unpadded_and_strict():
    assert keys.b64url(b"\xff\xfe") == "__4"
    assert keys.b64url_decode("__4") == b"\xff\xfe"
    for bad in ("__4=", "//4", "a", "__5", " __4"):
        with pytest.raises(ValueError):
            keys.b64url_decode(bad)


def test_a_private_key_file_is_owner_only_and_never_overwritten(tmp_path):
    path = tmp_path / "k.key"
    key = keys.generate()
    keys.write_private(path, key)
    assert path.stat().st_mode & 0o777 == 0o600
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        keys.write_private(path, keys.generate())
    assert path.read_bytes() == before
    assert keys.raw_public(keys.read_private(path)) == keys.raw_public(key)
    (tmp_path / "not.key").write_text("hello")
    with pytest.raises(keys.KeyFileError, match="not an unencrypted PEM"):
        keys.read_private(tmp_path / "not.key")


# ------------------------------------------------------------------ envelopes


def record(**fields):
    return {"type": "statement", "v": 1, "id": "s1", "epoch": 0, "seq": 1, "title": "Déclaration", **fields}


def test_an_envelope_is_the_payload_its_signature_and_key_id():
    key = keys.generate()
    envelope = envelopes.sign(record(), key)
    assert set(envelope) == {"payload", "sig", "kid"}
    assert envelope["payload"] == canonical.dumps(record())
    assert envelope["kid"] == keys.key_id(keys.raw_public(key))
    signature = keys.b64url_decode(envelope["sig"])
    assert len(signature) == 64 and "=" not in envelope["sig"]
    key.public_key().verify(signature, envelope["payload"].encode("utf-8"))  # raises when wrong
    assert envelopes.sign(record(), key) == envelope  # Ed25519 is deterministic


def test_a_flipped_byte_anywhere_fails_verification():
    key = keys.generate()
    envelope = envelopes.sign(record(title="Заявление"), key)
    payload = envelope["payload"].encode("utf-8")
    for position in range(len(payload)):
        changed = bytearray(payload)
        changed[position] ^= 0x01
        try:
            text = changed.decode("utf-8")
        except UnicodeDecodeError:
            continue  # not text any more: a device refuses it before any signature check
        tampered = {**envelope, "payload": text}
        with pytest.raises(Rejected) as refused:
            opened = envelopes.open_envelope(tampered, ("statement",))
            envelopes.check_signature(opened, key.public_key())
        assert refused.value.reason in ("bad-signature", "malformed")
    signature = bytearray(keys.b64url_decode(envelope["sig"]))
    signature[10] ^= 0x80
    opened = envelopes.open_envelope({**envelope, "sig": keys.b64url(bytes(signature))}, ("statement",))
    with pytest.raises(Rejected, match="bad-signature"):
        envelopes.check_signature(opened, key.public_key())


def test_a_document_of_another_type_is_malformed():
    key = keys.generate()
    envelope = envelopes.sign({**record(), "type": "sync-index"}, key)
    with pytest.raises(Rejected) as refused:
        envelopes.open_envelope(envelope, ("statement", "withdrawal"))
    assert refused.value.reason == "malformed"
    with pytest.raises(ValueError):
        envelopes.sign({"type": "anything", "v": 1}, key)


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.pop("kid"),
        lambda e: e.update(extra=1),
        lambda e: e.update(sig=e["sig"] + "="),
        lambda e: e.update(sig=e["sig"][:-4]),
        lambda e: e.update(payload=json.dumps(json.loads(e["payload"]), indent=1)),
        lambda e: e.update(payload=7),
    ],
)
def test_malformed_envelopes_are_refused_as_such(change):
    envelope = envelopes.sign(record(), keys.generate())
    change(envelope)
    with pytest.raises(Rejected) as refused:
        envelopes.open_envelope(envelope, ("statement",))
    assert refused.value.reason == "malformed"


# ------------------------------------------------------------------ a device's rules


class Publisher:
    def __init__(self):
        self.root = keys.generate()
        self.online = keys.generate()
        self.certificate = certificates.certify(
            self.root, self.online.public_key(), issued=T0, expires=T0 + dt.timedelta(days=30)
        )

    @property
    def kid(self):
        return keys.key_id(keys.raw_public(self.online))

    def device(self) -> Verifier:
        device = Verifier(keys.raw_public(self.root))
        device.add_certificate(self.certificate)
        return device

    def index(self, epoch, seq, at, key=None):
        document = {"type": "sync-index", "v": 1, "epoch": epoch, "seq": seq, "signed_at": at}
        return envelopes.sign(document, key or self.online)


def refused(device, call, *args):
    with pytest.raises(Rejected) as caught:
        call(*args)
    return caught.value.reason


def test_a_certified_key_signs_and_an_uncertified_one_does_not():
    publisher = Publisher()
    device = publisher.device()
    assert device.accept_record(envelopes.sign(record(), publisher.online))["title"] == "Déclaration"
    stranger = keys.generate()
    assert refused(device, device.accept_record, envelopes.sign(record(), stranger)) == "unknown-key"
    # A certificate from another root is not one from the pinned root.
    other_root = keys.generate()
    foreign = certificates.certify(
        other_root, stranger.public_key(), issued=T0, expires=T0 + dt.timedelta(days=9)
    )
    assert refused(device, device.add_certificate, foreign) == "unknown-key"
    # Nor is a certificate whose signature was changed.
    forged = copy.deepcopy(foreign)
    forged["kid"] = publisher.certificate["kid"]
    assert refused(device, device.add_certificate, forged) == "bad-signature"
    assert device.refused == {"unknown-key": 2, "bad-signature": 1}


def test_a_key_expires_at_the_devices_trusted_time_not_its_clock():
    publisher = Publisher()
    device = publisher.device()
    signed = envelopes.sign(record(), publisher.online)
    device.accept_index(publisher.index(0, 1, "2026-03-20T00:00:00Z"))
    device.accept_record(signed)  # before the expiry on 31 March
    device.accept_index(publisher.index(0, 2, "2026-04-02T00:00:00Z"))  # an index signed after it
    assert refused(device, device.accept_record, signed) == "expired-key"


def test_revocations_are_never_forgotten():
    publisher = Publisher()
    device = publisher.device()
    device.add_revocation(revocations.revoke(publisher.root, publisher.kid, at=T0))
    signed = envelopes.sign(record(), publisher.online)
    assert refused(device, device.accept_record, signed) == "revoked-key"
    device.add_certificate(publisher.certificate)  # the certificate again, from a mirror
    assert refused(device, device.accept_record, signed) == "revoked-key"
    # A revocation not signed by the pinned root is not one.
    stranger_says = revocations.revoke(keys.generate(), "anykeyid", at=T0)
    assert refused(device, device.add_revocation, stranger_says) == "unknown-key"
    assert "anykeyid" not in device.revoked


def test_indexes_and_records_only_move_forward():
    publisher = Publisher()
    device = publisher.device()
    device.accept_index(publisher.index(0, 5, "2026-03-02T00:00:00Z"))
    assert refused(device, device.accept_index, publisher.index(0, 4, "2026-03-03T00:00:00Z")) == "rollback"
    assert refused(device, device.accept_index, publisher.index(0, 5, "2026-03-01T23:00:00Z")) == "rollback"
    device.accept_index(publisher.index(0, 5, "2026-03-02T01:00:00Z"))  # re-signed hourly: fine
    device.accept_index(publisher.index(1, 1, "2026-03-02T02:00:00Z"))  # a new epoch after a restore
    assert device.trusted_time == dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)
    device.accept_record(envelopes.sign(record(epoch=1, seq=7), publisher.online))
    older = envelopes.sign(record(epoch=1, seq=6, title="old"), publisher.online)
    assert refused(device, device.accept_record, older) == "rollback"
    assert (
        refused(device, device.check_file, b"chunk", hashlib.sha256(b"other").hexdigest()) == "hash-mismatch"
    )
    assert device.check_file(b"chunk", hashlib.sha256(b"chunk").hexdigest()) == b"chunk"


def test_the_pin_moves_only_by_a_root_record_signed_by_the_pinned_root():
    publisher = Publisher()
    device = publisher.device()
    new_root = keys.generate()
    impostor = keys.generate()
    forged = rotation.rotate(impostor, keys.generate().public_key(), at=T0)
    assert refused(device, device.follow_root, forged) == "unknown-key"
    device.follow_root(rotation.rotate(publisher.root, new_root.public_key(), at=T0))
    assert device.root == keys.raw_public(new_root)
    # From now on, only the new root certifies.
    later = keys.generate()
    device.add_certificate(
        certificates.certify(new_root, later.public_key(), issued=T0, expires=T0 + dt.timedelta(days=1))
    )
    old_says = certificates.certify(
        publisher.root, later.public_key(), issued=T0, expires=T0 + dt.timedelta(days=1)
    )
    assert refused(device, device.add_certificate, old_says) == "unknown-key"


def test_version_true_is_not_version_one():
    # true == 1 in Python; a JSON verifier (the device's) reads them apart, so both refuse it.
    key = keys.generate()
    envelope = envelopes.signed_payload('{"type":"statement","v":true}', key)
    with pytest.raises(Rejected) as refused:
        envelopes.open_envelope(envelope, ("statement",))
    assert refused.value.reason == "malformed"
