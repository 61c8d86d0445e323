"""Tokens on the running platform: stored only as hashes, and a revoked or rotated-out token is refused by
every service at once, without a restart."""

import httpx
import pytest

from dunning_platform.devstack.services import SERVICES

READS = {
    "ingestion": "/v1/loans/L-security-unknown",
    "dunning-scheduler": "/v1/policy",
    "notification": "/v1/reminders",
    "legal-referral": "/v1/partners",
}


def answers(platform, token) -> dict[str, int]:
    return {
        svc.name: httpx.get(platform.url(svc.name) + READS[svc.name], headers=token.headers, timeout=10).status_code
        for svc in SERVICES
    }


@pytest.mark.slow
def test_a_revoked_token_is_refused_at_once_by_every_running_service(platform, tokens):
    token = tokens.issue("cases:read")
    before = answers(platform, token)

    tokens.revoke(token)

    assert 401 not in before.values() and 403 not in before.values(), before
    assert answers(platform, token) == {svc.name: 401 for svc in SERVICES}


@pytest.mark.slow
def test_rotation_the_new_token_works_and_the_old_one_is_refused(platform, tokens):
    old = tokens.issue("cases:read", name="lender reader")
    answers(platform, old)

    new = tokens.issue("cases:read", name="lender reader")
    tokens.revoke(old)

    assert all(status not in (401, 403) for status in answers(platform, new).values())
    assert answers(platform, old) == {svc.name: 401 for svc in SERVICES}


@pytest.mark.slow
def test_the_tokens_file_holds_no_token_in_plaintext_and_only_its_owner_reads_it(platform, tokens):
    issued = [tokens.issue("cases:read"), tokens.issue("admin")]
    content = tokens.file.read_text()

    assert not [t for t in issued if t.plaintext in content]
    assert platform.admin_token not in content
    assert tokens.file.stat().st_mode & 0o077 == 0, oct(tokens.file.stat().st_mode)
