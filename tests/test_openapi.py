"""The OpenAPI document at /api/openapi.json, and schemathesis over it against the app.

schemathesis generates requests from the document (fixed seed, a bounded
number per operation) and checks each answer: never a 5xx, and the status,
content type and body the document promises.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CASES_PER_OPERATION = 60  # six operations: about 360 cases, a few seconds
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def site(app, publisher):
    """A few statements of every kind the API shows: tagged, translated, corrected, withdrawn."""
    original = publisher.publish("First", slug="first", tags=("labour", "port"))
    publisher.publish("Premier", lang="fr", slug="premier", translation_of=original)
    corrected = publisher.publish("Second", slug="second")
    publisher.revise(corrected, title="Second, corrected", body="<p>Fixed.</p>", correction_note="A date.")
    publisher.withdraw(publisher.publish("Gone", slug="gone"))
    for number in range(25):  # more than a page
        publisher.publish(f"Statement {number}", slug=f"statement-{number}")
    return app


def test_the_document_is_openapi_3_1_and_names_every_public_json_route(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = json.loads(response.data)
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/api/statements",
        "/api/statements/{slug}",
        "/api/sync",
        "/sync/index.json",
        "/sync/{name}",
        "/healthz",
    }
    assert "public" in response.headers["Cache-Control"] and response.headers["ETag"]


def test_the_document_is_answered_304_when_held(client):
    etag = client.get("/api/openapi.json").headers["ETag"]
    assert client.get("/api/openapi.json", headers={"If-None-Match": etag}).status_code == 304


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(site):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", site)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=CASES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case):
            # The app compresses for clients that accept it; the WSGI transport would not decode it.
            case.call_and_validate(headers={"Accept-Encoding": "identity"}, checks=CHECKS)

        conforms()
