"""Request size limits and per-token rate limits, on the running services: too large a body gets 413 and
too many requests from one token get 429 with Retry-After, both as problem+json, before any work is done."""

import time

import httpx
import pytest

from dunning_platform.settings import ServiceSettings
from tests.security.support import is_problem
from tests.security.conftest import (
    RATE_LIMIT_BURST,
    RATE_LIMITED_SERVICE,
    SCHEDULER_MAX_REQUEST_BYTES,
    SIZE_LIMITED_SERVICE,
)

DEFAULT_MAX_REQUEST_BYTES = ServiceSettings.model_fields["max_request_bytes"].default


def json_body_of(size: int) -> bytes:
    """A syntactically valid JSON document of exactly `size` bytes."""
    return b'{"padding": "' + b"x" * (size - 15) + b'"}'


@pytest.mark.slow
def test_an_event_body_over_the_default_limit_gets_413_and_changes_nothing(platform, tokens):
    lender = tokens.issue("events:write")
    body = json_body_of(DEFAULT_MAX_REQUEST_BYTES + 1)
    headers = lender.headers | {"Content-Type": "application/json"}

    response = httpx.post(platform.url("ingestion") + "/v1/repayment-events", content=body, headers=headers, timeout=60)

    assert is_problem(response, 413), response.text[:300]


@pytest.mark.slow
def test_the_limit_is_a_setting_and_a_body_just_under_it_is_not_refused_for_its_size(platform, tokens):
    writer = tokens.issue("policy:write")
    url = platform.url(SIZE_LIMITED_SERVICE) + "/v1/policy"
    headers = writer.headers | {"Content-Type": "application/json"}

    over = httpx.put(url, content=json_body_of(SCHEDULER_MAX_REQUEST_BYTES + 1), headers=headers, timeout=30)
    under = httpx.put(url, content=json_body_of(SCHEDULER_MAX_REQUEST_BYTES), headers=headers, timeout=30)

    assert is_problem(over, 413), over.text[:300]
    assert under.status_code == 422, "judged on its content (not a policy), not on its size"


@pytest.mark.slow
def test_a_chunked_body_over_the_limit_gets_413_too(platform, tokens):
    writer = tokens.issue("policy:write")
    chunk = b"x" * 8192
    chunks = SCHEDULER_MAX_REQUEST_BYTES // len(chunk) + 2

    def body():
        yield b'{"padding": "'
        for _ in range(chunks):
            yield chunk
        yield b'"}'

    headers = writer.headers | {"Content-Type": "application/json"}
    response = httpx.put(platform.url(SIZE_LIMITED_SERVICE) + "/v1/policy", content=body(), headers=headers, timeout=30)

    assert is_problem(response, 413), f"{response.status_code} {response.text[:300]}"


@pytest.mark.slow
def test_many_requests_with_one_token_get_429_with_retry_after_and_other_tokens_are_unaffected(platform, tokens):
    busy, other = tokens.issue("cases:read"), tokens.issue("cases:read")
    url = platform.url(RATE_LIMITED_SERVICE) + "/v1/legal-cases"

    with httpx.Client(timeout=10) as client:
        answers = [client.get(url, headers=busy.headers) for _ in range(RATE_LIMIT_BURST * 3)]
        bystander = client.get(url, headers=other.headers)
        limited = [a for a in answers if a.status_code == 429]

        assert [a.status_code for a in answers[:RATE_LIMIT_BURST]] == [200] * RATE_LIMIT_BURST
        assert limited, f"no 429 among {[a.status_code for a in answers]}"
        assert is_problem(limited[0], 429), limited[0].text
        retry_after = int(limited[0].headers["Retry-After"])
        assert 1 <= retry_after <= 60
        assert bystander.status_code == 200, "the limit is per token"

        time.sleep(retry_after)
        assert client.get(url, headers=busy.headers).status_code == 200, "the token may go on after Retry-After"
