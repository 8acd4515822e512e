"""The publisher's keys on disk: the public keyring and the online private keys.

A folder (the app's ``instance/``) holds:

- ``keyring.json``: public documents only — the root's public key, every
  certificate, revocation and ``root`` record the root signed. Written whole
  to a temporary file and renamed, so a reader never sees half of it.
- ``signing-<kid>.key``: an online private key, mode 0600, made by
  :func:`certify` (unless the operator keeps it in a file of their own).

The root's private key never lives here: the operator passes its file to
each command that needs it and keeps it offline (``root.key`` is the
development root ``prepare`` makes for ``make run`` only). Every operation
checks everything first and writes last, so a refusal writes nothing, and no
file is ever overwritten but the keyring itself.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin.signing import certificates, keys, revocations, rotation, times

KEYRING = "keyring.json"
DEVELOPMENT_ROOT = "root.key"
DEFAULT_DAYS = 365


class KeyringError(ValueError):
    """An operation the keys on disk do not allow; the message says why and what to do. Nothing was written."""


@dataclass
class Keyring:
    """The public half of the publisher's keys, as ``keyring.json`` holds it."""

    root: bytes | None = None
    roots: list[dict] = field(default_factory=list)  # root records, oldest first
    certificates: list[dict] = field(default_factory=list)  # envelopes, oldest first
    revocations: list[dict] = field(default_factory=list)

    def certified(self) -> dict[str, dict]:
        """Each certified key's id -> the document of its newest certificate by the current root."""
        found: dict[str, dict] = {}
        for envelope in self.certificates:
            document = json.loads(envelope["payload"])
            if self.root is not None and document["root"] == keys.key_id(self.root):
                found[document["kid"]] = document
        return found

    def revoked(self) -> set[str]:
        return set(_revocations_by_kid(self))

    def valid_kids(self, now: dt.datetime) -> list[str]:
        """Keys that may sign at ``now`` (certified by the current root, unexpired, unrevoked), newest first."""
        revoked = self.revoked()
        certified = self.certified()
        # Issued in the same second: the one certified later in the keyring is the newer.
        order = {kid: position for position, kid in enumerate(certified)}
        valid = [
            document
            for kid, document in certified.items()
            if kid not in revoked and times.parse(document["expires"]) > now
        ]
        newest_first = sorted(valid, key=lambda d: (d["issued"], order[d["kid"]]), reverse=True)
        return [document["kid"] for document in newest_first]


def _revocations_by_kid(keyring: Keyring) -> dict[str, dict]:
    """The first revocation of each revoked key."""
    found: dict[str, dict] = {}
    for envelope in keyring.revocations:
        found.setdefault(json.loads(envelope["payload"])["kid"], envelope)
    return found


def load(folder: str | Path) -> Keyring:
    """The keyring in ``folder`` (empty when there is none yet); KeyringError when it cannot be read."""
    path = Path(folder) / KEYRING
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Keyring()
    except (OSError, ValueError) as e:
        raise KeyringError(f"cannot read {path}: {e}") from e
    try:
        root = keys.b64url_decode(data["root"]) if data.get("root") else None
        found = Keyring(root, list(data["roots"]), list(data["certificates"]), list(data["revocations"]))
        found.certified(), found.revoked()  # every document readable, or refused now rather than mid-request
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise KeyringError(f"{path} is not a Bulletin keyring ({type(e).__name__}: {e})") from e
    return found


def _save(folder: str | Path, keyring: Keyring) -> None:
    data = {
        "root": keys.b64url(keyring.root) if keyring.root else None,
        "roots": keyring.roots,
        "certificates": keyring.certificates,
        "revocations": keyring.revocations,
    }
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".keyring.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)  # public documents: the web server may serve them
        os.replace(temporary, folder / KEYRING)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def online_key_path(folder: str | Path, kid: str) -> Path:
    return Path(folder) / f"signing-{kid}.key"


# ------------------------------------------------------------------ operations


def init_root(file: str | Path) -> dict:
    """A new root private key written to ``file`` (never over an existing file); its public description."""
    if Path(file).exists():
        raise KeyringError(f"{file} exists: a root key is never overwritten")
    root = keys.generate()
    try:
        keys.write_private(file, root)
    except FileExistsError as e:
        raise KeyringError(f"{file} exists: a root key is never overwritten") from e
    except OSError as e:
        raise KeyringError(f"cannot write {file}: {e.strerror or e}") from e
    return keys.description(keys.raw_public(root))


def _the_root(keyring: Keyring, root: Ed25519PrivateKey) -> bytes:
    """The root's raw public key, which must be the keyring's (or the keyring has none yet)."""
    raw = keys.raw_public(root)
    if keyring.root is not None and keyring.root != raw:
        raise KeyringError(
            f"that root key (fingerprint {keys.fingerprint(raw)}) is not this site's root"
            f" ({keys.fingerprint(keyring.root)}); use keys rotate-root to change roots"
        )
    return raw


def certify(
    folder: str | Path,
    root: Ed25519PrivateKey,
    *,
    now: dt.datetime,
    days: int = DEFAULT_DAYS,
    signing_key: str | Path | None = None,
) -> dict:
    """Certify an online key for ``days``: the one in the file ``signing_key`` names, else a new one written to
    ``folder``. Returns the new certificate's document."""
    if days < 1:
        raise KeyringError("--days must be at least 1")
    keyring = load(folder)
    raw_root = _the_root(keyring, root)
    online = keys.read_private(signing_key) if signing_key else keys.generate()
    kid = keys.key_id(keys.raw_public(online))
    if kid in keyring.revoked():
        raise KeyringError(f"key {kid} was revoked: it can never be certified again")
    if kid == keys.key_id(raw_root):
        raise KeyringError("the root key cannot also be an online key")
    envelope = certificates.certify(
        root, online.public_key(), issued=now, expires=now + dt.timedelta(days=days)
    )
    if signing_key is None:
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            keys.write_private(online_key_path(folder, kid), online)
        except OSError as e:
            raise KeyringError(f"cannot write the new key in {folder}: {e.strerror or e}") from e
    keyring.root = raw_root
    keyring.certificates.append(envelope)
    _save(folder, keyring)
    return json.loads(envelope["payload"])


def revoke(folder: str | Path, root: Ed25519PrivateKey, kid: str, *, now: dt.datetime) -> dict:
    """Publish the root's revocation of the online key ``kid``; its document."""
    keyring = load(folder)
    if keyring.root is None:
        raise KeyringError("this site has no root yet: run keys certify first")
    _the_root(keyring, root)
    if kid not in {json.loads(e["payload"])["kid"] for e in keyring.certificates}:
        raise KeyringError(f"no certified key has the id {kid!r} (see keys show)")
    if kid in keyring.revoked():
        raise KeyringError(f"key {kid} is already revoked")
    envelope = revocations.revoke(root, kid, at=now)
    keyring.revocations.append(envelope)
    _save(folder, keyring)
    return json.loads(envelope["payload"])


def rotate_root(
    folder: str | Path, old: Ed25519PrivateKey, new_file: str | Path, *, now: dt.datetime
) -> dict:
    """Hand the site's trust from the root ``old`` to the one in ``new_file`` (made there when absent).

    The old root signs a ``root`` record naming the new one; the new root
    certifies again every online key that may still sign, with the same
    expiry, and revokes again every revoked key, so devices that pin either
    root accept the same keys. Returns the record's document.
    """
    keyring = load(folder)
    if keyring.root is None:
        raise KeyringError("this site has no root yet: run keys certify first")
    _the_root(keyring, old)
    new = keys.read_private(new_file) if Path(new_file).exists() else keys.generate()
    if keys.raw_public(new) == keyring.root:
        raise KeyringError(f"{new_file} holds the current root: give a new key's file")
    valid = keyring.valid_kids(now)
    certified = keyring.certified()
    record = rotation.rotate(old, new.public_key(), at=now)
    again = [
        certificates.certify(
            new,
            keys.public_from_raw(keys.b64url_decode(certified[kid]["public_key"])),
            issued=now,
            expires=times.parse(certified[kid]["expires"]),
        )
        for kid in reversed(valid)
    ]
    # Devices that pin the new root from the start accept only what it signed: its own word on revocations too.
    revoked_again = [
        revocations.revoke(new, kid, at=times.parse(json.loads(envelope["payload"])["revoked_at"]))
        for kid, envelope in _revocations_by_kid(keyring).items()
    ]
    if not Path(new_file).exists():
        try:
            keys.write_private(new_file, new)
        except OSError as e:
            raise KeyringError(f"cannot write {new_file}: {e.strerror or e}") from e
    keyring.roots.append(record)
    keyring.certificates.extend(again)
    keyring.revocations.extend(revoked_again)
    keyring.root = keys.raw_public(new)
    _save(folder, keyring)
    return json.loads(record["payload"])


def show(keyring: Keyring) -> dict:
    """``{"root": {"kid", "public_key", "fingerprint"}, "keys": [{"kid", "public_key", "fingerprint",
    "expires", "revoked"}]}``: the contract of ``keys show --json`` (``root`` null before the first certify)."""
    revoked = keyring.revoked()
    listed = []
    for kid, document in keyring.certified().items():
        listed.append(
            {
                "kid": kid,
                "public_key": document["public_key"],
                "fingerprint": document["fingerprint"],
                "expires": document["expires"],
                "revoked": kid in revoked,
            }
        )
    return {"root": keys.description(keyring.root) if keyring.root else None, "keys": listed}


def published(keyring: Keyring) -> dict:
    """What ``/keys.json`` serves: :func:`show`, each key with its certificate, every revocation and root record."""
    shown = show(keyring)
    newest = {}
    for envelope in keyring.certificates:
        document = json.loads(envelope["payload"])
        if keyring.root is not None and document["root"] == keys.key_id(keyring.root):
            newest[document["kid"]] = envelope
    for entry in shown["keys"]:
        entry["certificate"] = newest[entry["kid"]]
    return {**shown, "revocations": list(keyring.revocations), "roots": list(keyring.roots)}


@dataclass(frozen=True)
class Signer:
    """The online key that signs now, and the ids of every key whose signatures still stand."""

    key: Ed25519PrivateKey
    kid: str
    valid: frozenset[str]


def signer(folder: str | Path, now: dt.datetime, signing_key: str | Path | None = None) -> Signer | None:
    """The newest certified, unexpired, unrevoked online key whose private key is at hand; None when there is none."""
    keyring = load(folder)
    valid = keyring.valid_kids(now)
    own = keys.read_private(signing_key) if signing_key else None
    for kid in valid:
        if own is not None and keys.key_id(keys.raw_public(own)) == kid:
            return Signer(own, kid, frozenset(valid))
        path = online_key_path(folder, kid)
        if own is None and path.exists():
            return Signer(keys.read_private(path), kid, frozenset(valid))
    return None


def ensure_development_keys(folder: str | Path, *, now: dt.datetime) -> list[str]:
    """For ``make run``: a development root at ``folder/root.key`` and a certified key, when the site has neither.

    Returns what was made, as lines for the operator (empty: nothing).
    """
    folder = Path(folder)
    keyring = load(folder)
    root_file = folder / DEVELOPMENT_ROOT
    if keyring.root is not None or root_file.exists():
        return []
    folder.mkdir(parents=True, exist_ok=True)
    made = init_root(root_file)
    document = certify(folder, keys.read_private(root_file), now=now)
    return [
        f"made a development root key {root_file} (fingerprint {made['fingerprint']})",
        f"certified the online key {document['kid']} until {document['expires']}",
    ]


def development_root_warning(folder: str | Path) -> str | None:
    """The warning to give while the development root lies beside the site's data; None when it does not."""
    if (Path(folder) / DEVELOPMENT_ROOT).exists():
        return (
            f"the root key is in {DEVELOPMENT_ROOT} beside the site's data: a real publisher moves it"
            " offline (keys rotate-root to a root kept offline, then delete the file)"
        )
    return None
