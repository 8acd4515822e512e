"""The OpenAPI 3.1 description of the public JSON API, written by hand.

Written rather than generated so that it says what clients may rely on (the
statement object's fields, the error object, the cursor's opacity), not
whatever the code happens to return; ``tests/test_openapi.py`` runs
schemathesis over it against the app, so the two cannot drift apart
unnoticed. Limits that are settings are filled in from the running app.
"""

from __future__ import annotations

from flask import current_app

from bulletin.http.arguments import MAX_TEXT

_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": ["string", "null"]}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(description: str, schema: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


# A signed record's envelope; null while the site has no key that may sign.
_SIGNED = {
    "type": ["object", "null"],
    "description": "The envelope of the statement's signed record: the payload's fields equal the object's.",
    "required": ["payload", "sig", "kid"],
    "properties": {
        "payload": {
            **_TEXT,
            "description": "Canonical JSON of the record; verify these bytes, never re-serialize.",
        },
        "sig": {
            **_TEXT,
            "description": "base64url (no padding) of the Ed25519 signature over the payload's UTF-8.",
        },
        "kid": {**_TEXT, "description": "The signing key's id (see /keys.json)."},
    },
}

# An envelope in a sync file or as the index itself: never null there.
_ENVELOPE = {
    **{k: v for k, v in _SIGNED.items() if k != "type"},
    "type": "object",
    "additionalProperties": False,
    "description": "An envelope: verify `sig` over `payload`'s bytes with key `kid`, then read the payload.",
}

_NOT_MODIFIED = {"description": "The client's copy (If-None-Match) is current."}


def _statement_object() -> dict:
    translation = {
        "type": "object",
        "required": ["lang", "slug", "url", "title", "original"],
        "properties": {
            "lang": _TEXT,
            "slug": _TEXT,
            "url": _TEXT,
            "title": _TEXT,
            "original": {"type": "boolean"},
        },
    }
    fields = {
        "id": {**_TEXT, "description": "Random and permanent."},
        "revision": {**_TEXT, "description": "The id of the revision shown; changes with every correction."},
        "slug": _TEXT,
        "url": {**_TEXT, "description": "Root-relative address of the statement's page."},
        "title": _TEXT,
        "summary": _NULLABLE_TEXT,
        "lang": _TEXT,
        "dir": {"enum": ["ltr", "rtl"]},
        "published": {**_TEXT, "description": "A date (2022-01-07) or an ISO 8601 instant with offset."},
        "updated": _TEXT,
        "tags": {"type": "array", "items": _TEXT},
        "translations": {"type": "array", "items": translation},
        "correction_note": _NULLABLE_TEXT,
        "body_html": {**_TEXT, "description": "Sanitized HTML of the body."},
        "article_html": {**_TEXT, "description": "The <article> exactly as the statement's page holds it."},
        "list_item_html": {**_TEXT, "description": "The <li> exactly as the lists (home, tags) hold it."},
        "list_order": {**_TEXT, "description": "Lists are in descending text order of this key."},
        "signed": _SIGNED,
    }
    return {"type": "object", "required": list(fields), "properties": fields}


def _sync_chunk() -> dict:
    fields = {"path": _TEXT, "sha256": _TEXT, "size": {"type": "integer"}}
    positions = {"from": {"type": "integer"}, "to": {"type": "integer"}}
    return {"type": "object", "required": [*fields, *positions], "properties": {**fields, **positions}}


def _sync_index() -> dict:
    """The index's payload (canonical JSON inside its envelope), described for readers of the payload."""
    file = {"type": "object", "required": ["path", "sha256"], "properties": {"path": _TEXT, "sha256": _TEXT}}
    return {
        "type": "object",
        "required": [
            "type",
            "v",
            "db",
            "epoch",
            "seq",
            "signed_at",
            "keys",
            "mirrors",
            "snapshot",
            "chunks",
            "older",
        ],  # fmt: skip
        "properties": {
            "type": {"const": "sync-index"},
            "v": {"const": 1},
            "db": _TEXT,
            "epoch": {
                "type": "integer",
                "description": "Only rises (a restore raises it): records order by it.",
            },
            "seq": {"type": "integer", "description": "The change position the index stands at."},
            "signed_at": {
                **_TEXT,
                "description": "YYYY-MM-DDTHH:MM:SSZ: the later of the latest change and the current hour's start.",
            },
            "keys": {"type": "object", "description": "Exactly what /keys.json serves."},
            "mirrors": {
                "type": ["object", "null"],
                "description": "The signed mirror list's envelope, or null.",
            },
            "snapshot": {
                **file,
                "description": "The newest statements as of `seq`: what a new device takes.",
                "required": ["path", "sha256", "size", "seq"],
            },
            "chunks": {
                "type": "array",
                "items": _sync_chunk(),
                "description": "Recent chunks: the latest records of positions (`from`, `to`].",
            },
            "older": {
                **file,
                "required": ["path", "sha256", "to"],
                "description": "Lists the chunks before `to`, for devices that far behind.",
            },
        },
    }


def document() -> dict:
    """The document served at ``/api/openapi.json``."""
    config = current_app.config
    page = {
        "name": "page",
        "in": "query",
        "description": "Page number; past the last page is a 404.",
        "schema": {"type": "integer", "minimum": 1},
    }
    before = {
        "name": "before",
        "in": "query",
        "description": "The id of the last statement of the previous page, as `next` carries it.",
        "schema": _TEXT,
    }
    slug = {"name": "slug", "in": "path", "required": True, "schema": _TEXT}
    limit = {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": config["SYNC_MAX_LIMIT"]},
    }
    since = {
        "name": "since",
        "in": "query",
        "description": "An opaque cursor from an earlier answer; `0` for every change from the beginning.",
        "schema": _TEXT,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{config['SITE_NAME']} public API",
            "version": "1",
            "description": (
                "Published statements as JSON, and delta sync for devices. Every answer but /healthz "
                "carries an ETag and may be revalidated with If-None-Match. "
                f"Search text is limited to {MAX_TEXT} characters."
            ),
        },
        "paths": {
            "/api/statements": {
                "get": {
                    "summary": "Published statements, newest first, a page at a time",
                    "parameters": [page, before],
                    "responses": {
                        "200": _json("A page of statements.", "StatementList"),
                        "304": _NOT_MODIFIED,
                        "400": _error("A malformed argument, or an unknown `before`."),
                        "404": _error("A page past the last."),
                    },
                }
            },
            "/api/statements/{slug}": {
                "get": {
                    "summary": "One published statement",
                    "parameters": [slug],
                    "responses": {
                        "200": _json("The statement.", "Statement"),
                        "301": {"description": "An old slug: Location names the current one."},
                        "304": _NOT_MODIFIED,
                        "404": _error("No published statement has this slug."),
                        "410": _error("Withdrawn: the message is the reason."),
                    },
                }
            },
            "/api/sync": {
                "get": {
                    "summary": "Changes since a cursor, or a starting snapshot without one",
                    "parameters": [since, limit],
                    "responses": {
                        "200": _json("Changes, oldest first, each statement once.", "Sync"),
                        "304": _NOT_MODIFIED,
                        "400": _error("A malformed argument or a cursor this server did not make."),
                        "410": _error("A cursor of another database or epoch: sync again without `since`."),
                    },
                }
            },
            "/sync/index.json": {
                "get": {
                    "summary": "Sync as files: the index of the current snapshot and chunks (short-lived)",
                    "responses": {
                        "200": _json(
                            "A signed envelope whose payload is a SyncIndexPayload. Paths are relative to the"
                            " index; each file is named by its SHA-256.",
                            "SyncIndex",
                        ),
                        "304": _NOT_MODIFIED,
                        "404": _error("The site has no online key that may sign: sync by /api/sync."),
                    },
                }
            },
            "/sync/{name}": {
                "get": {
                    "summary": "A snapshot, chunk or `older` file the current index names (immutable)",
                    "parameters": [{"name": "name", "in": "path", "required": True, "schema": _TEXT}],
                    "responses": {
                        "200": _json("Its bytes are those the index's `sha256` names.", "SyncFile"),
                        "304": _NOT_MODIFIED,
                        "404": _error("No file of the current index has this name."),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Whether this server can serve (never cached)",
                    "responses": {
                        "200": _json("Ready.", "Health"),
                        "503": _json("Not ready; `reason` says why.", "Health"),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Statement": _statement_object(),
                "StatementList": {
                    "type": "object",
                    "required": ["statements", "next"],
                    "properties": {
                        "statements": {"type": "array", "items": {"$ref": "#/components/schemas/Statement"}},
                        "next": {
                            **_NULLABLE_TEXT,
                            "description": "The next page's address, null on the last.",
                        },
                    },
                },
                "Withdrawal": {
                    "type": "object",
                    "required": ["id", "slug", "url", "withdrawn_at", "reason", "article_html"],
                    "properties": {
                        "id": _TEXT,
                        "slug": _TEXT,
                        "url": _TEXT,
                        "withdrawn_at": _NULLABLE_TEXT,
                        "reason": _NULLABLE_TEXT,
                        "article_html": _TEXT,
                        "signed": _SIGNED,
                    },
                },
                "Sync": {
                    "type": "object",
                    "required": ["cursor", "more", "statements", "withdrawn"],
                    "properties": {
                        "cursor": _TEXT,
                        "more": {"type": "boolean"},
                        "statements": {"type": "array", "items": {"$ref": "#/components/schemas/Statement"}},
                        "withdrawn": {"type": "array", "items": {"$ref": "#/components/schemas/Withdrawal"}},
                    },
                },
                "SyncIndex": _ENVELOPE,
                "SyncIndexPayload": _sync_index(),
                "SyncFile": {
                    "description": "A snapshot or chunk (`records`, oldest change first in a chunk), or `older`.",
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["records"],
                            "properties": {
                                "records": {
                                    "type": "array",
                                    "description": "Envelopes alone: payload types statement or withdrawal.",
                                    "items": _ENVELOPE,
                                }
                            },
                        },
                        {
                            "type": "object",
                            "required": ["chunks"],
                            "properties": {"chunks": {"type": "array", "items": _sync_chunk()}},
                        },
                    ],
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "database"],
                    "properties": {
                        "status": {"enum": ["ok", "unavailable"]},
                        "database": {"enum": ["readable", "unreadable"]},
                        "reason": _TEXT,
                        "schema_version": {"type": "integer"},
                        "migrations": {"enum": ["current", "pending"]},
                        "last_publication": _NULLABLE_TEXT,
                        "epoch": _TEXT,
                        "warning": _TEXT,
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {"code": _TEXT, "message": _TEXT},
                        }
                    },
                },
            }
        },
    }
