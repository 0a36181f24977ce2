"""schemathesis against the live server: every operation of the OpenAPI schema, with
examples generated from it (valid and invalid), sent with a valid token. No answer may be
a 500, and every answer must match the schema (its status code, its content type — errors
are application/problem+json — and its body)."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import add_key, make_generation
from tests.test_api_tokens import make_token
from videos.models import Generation

#: Examples per operation and mode: bounded so the whole walk stays under a minute.
EXAMPLES = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def live_api(live_server, owner, team, settings):
    settings.STUDIO_API_RATE_LIMIT = 100_000
    key = add_key(owner, team)
    generation = make_generation(owner, team, key)
    token = make_token(owner, team)
    schema_dict = requests.get(f"{live_server.url}/api/v1/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(schema_dict)
    headers = {"Authorization": f"Bearer {token}"}
    # The live server sees the token and the generation: the walk is authenticated.
    mine = requests.get(f"{live_server.url}/api/v1/generations/{generation.uuid}", headers=headers, timeout=10)
    assert mine.status_code == 200, mine.text
    return schema, live_server.url, headers, generation


def _walk(operation, mode, base_url, headers, checks):
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call(base_url=base_url, headers=headers, session=session, timeout=30)
        case.validate_response(response, checks=checks, headers=headers)

    check()


def test_every_operation_answers_within_its_schema(live_api):
    schema, base_url, headers, generation = live_api
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        _walk(operation, GenerationMode.POSITIVE, base_url, headers, CHECKS)
        _walk(operation, GenerationMode.NEGATIVE, base_url, headers, [*CHECKS, negative_data_rejection])
    # Invalid bodies made nothing; the one generation made beforehand is still there.
    assert Generation.objects.filter(pk=generation.pk).exists()
