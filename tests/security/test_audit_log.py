"""Every write through the API leaves a row in the audit log of the service that took it (token, method,
path, status), whether it was allowed or refused; and the row names the token by its id, never by itself."""

import secrets

import asyncpg
import httpx
import pytest

from dunning_platform.devstack.services import SERVICES
from tests.security.support import admin_dsn

WRITES = {
    "ingestion": ("POST", "/v1/repayment-events"),
    "dunning-scheduler": ("PUT", "/v1/policy"),
    "notification": ("PUT", "/v1/borrowers/B-security-audit/contact-preferences"),
    "legal-referral": ("PUT", "/v1/partners/security-audit"),
}
SCOPE_OF = {"ingestion": "events:write", "dunning-scheduler": "policy:write",
            "notification": "cases:write", "legal-referral": "legal:write"}


async def audit_rows(platform, schema: str, path: str) -> list[dict]:
    connection = await asyncpg.connect(admin_dsn(platform))
    try:
        rows = await connection.fetch(
            f"SELECT token_id, method, path, status FROM {schema}.audit_log WHERE path = $1 ORDER BY id", path
        )
    finally:
        await connection.close()
    return [dict(row) for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize("svc", SERVICES, ids=[svc.name for svc in SERVICES])
async def test_allowed_and_refused_writes_are_audited_by_token_id(platform, tokens, svc):
    method, path = WRITES[svc.name]
    writer = tokens.issue(SCOPE_OF[svc.name])
    url = platform.url(svc.name) + path
    # A body of no operation's shape: the write is judged (and audited) without changing anything.
    async with httpx.AsyncClient(timeout=30) as client:
        allowed = await client.request(method, url, json=[], headers=writer.headers)
        stranger = {"Authorization": f"Bearer dun_{secrets.token_urlsafe(32)}"}
        refused = await client.request(method, url, json=[], headers=stranger)

    rows = await audit_rows(platform, svc.schema, path)

    assert refused.status_code == 401
    assert {"token_id": writer.id, "method": method, "path": path, "status": allowed.status_code} in rows
    assert {"token_id": None, "method": method, "path": path, "status": 401} in rows
    assert not [row for row in rows if writer.plaintext in str(row)]
