"""Who may call what: every `/v1/...` operation of the four running services, read from their own
OpenAPI documents, refuses a request without a valid token (401) and a token without its scope (403),
and lets the right scope and admin through. An operation missing from the table below fails the test,
so a new endpoint cannot ship without being classified."""

import secrets
import uuid

import httpx
import pytest

from dunning_platform.devstack.services import SERVICES
from tests.security.support import is_problem

# The one table: (service, method, path) -> the scope an operation needs (admin passes all). Reads need
# cases:read; case changes cases:write; lenders' events events:write; the policy's writes policy:write
# (the simulation is a dry run that stores nothing, so reading is enough); legal moves legal:write.
REQUIRED_SCOPE = {
    ("ingestion", "POST", "/v1/repayment-events"): "events:write",
    ("ingestion", "GET", "/v1/loans/{loan_id}"): "cases:read",
    ("ingestion", "POST", "/v1/aging-sweeps"): "admin",
    ("dunning-scheduler", "GET", "/v1/cases"): "cases:read",
    ("dunning-scheduler", "GET", "/v1/cases/{case_id}"): "cases:read",
    ("dunning-scheduler", "POST", "/v1/cases/{case_id}/promises"): "cases:write",
    ("dunning-scheduler", "POST", "/v1/cases/{case_id}/holds"): "cases:write",
    ("dunning-scheduler", "POST", "/v1/cases/{case_id}/holds/{hold_id}/release"): "cases:write",
    ("dunning-scheduler", "POST", "/v1/cases/{case_id}/plans"): "cases:write",
    ("dunning-scheduler", "GET", "/v1/policy"): "cases:read",
    ("dunning-scheduler", "PUT", "/v1/policy"): "policy:write",
    ("dunning-scheduler", "POST", "/v1/policy/simulate"): "cases:read",
    ("dunning-scheduler", "GET", "/v1/agent-tasks"): "cases:read",
    ("dunning-scheduler", "POST", "/v1/agent-tasks/claim"): "cases:write",
    ("dunning-scheduler", "POST", "/v1/agent-tasks/{task_id}/complete"): "cases:write",
    ("dunning-scheduler", "GET", "/v1/loans/{loan_id}/history"): "cases:read",
    ("notification", "GET", "/v1/reminders"): "cases:read",
    ("notification", "GET", "/v1/borrowers/{borrower_id}/contact-preferences"): "cases:read",
    ("notification", "PUT", "/v1/borrowers/{borrower_id}/contact-preferences"): "cases:write",
    ("legal-referral", "GET", "/v1/legal-cases"): "cases:read",
    ("legal-referral", "GET", "/v1/legal-cases/{legal_case_id}"): "cases:read",
    ("legal-referral", "POST", "/v1/legal-cases/{legal_case_id}/status"): "legal:write",
    ("legal-referral", "GET", "/v1/legal-cases/{legal_case_id}/file"): "cases:read",
    ("legal-referral", "GET", "/v1/legal-cases/{legal_case_id}/file.pdf"): "cases:read",
    ("legal-referral", "GET", "/v1/partners"): "cases:read",
    ("legal-referral", "PUT", "/v1/partners/{partner_id}"): "legal:write",
    ("legal-referral", "GET", "/v1/partner-notices"): "cases:read",
    ("legal-referral", "POST", "/v1/partner-notices/{notice_id}/delivered"): "legal:write",
}

# Outside /v1 only the probes, the metrics, the OpenAPI document and the provider's signed receipts
# answer without a bearer token.
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
SIGNED = {("notification", "POST", "/webhooks/receipts/{provider}")}

SERVICE_NAMES = [svc.name for svc in SERVICES]
METHODS = {"get", "put", "post", "patch", "delete"}


def operations(platform, service: str) -> list[dict]:
    document = httpx.get(platform.url(service) + "/openapi.json", timeout=10).raise_for_status().json()
    return [
        {"service": service, "method": method.upper(), "path": path, "spec": spec}
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    ]


def v1_operations(platform, service: str) -> list[dict]:
    return [op for op in operations(platform, service) if op["path"].startswith("/v1/")]


def key(op: dict) -> tuple[str, str, str]:
    return op["service"], op["method"], op["path"]


def concrete_path(op: dict) -> str:
    """The path with a harmless value for each parameter, of the type the document declares."""
    path = op["path"]
    for parameter in op["spec"].get("parameters", []):
        if parameter["in"] != "path":
            continue
        schema = parameter.get("schema", {})
        if schema.get("format") == "uuid":
            value = str(uuid.uuid4())
        elif schema.get("type") == "integer":
            value = "1"
        else:
            value = "security-test-unknown"
        path = path.replace("{" + parameter["name"] + "}", value)
    return path


def call(platform, op: dict, headers: dict[str, str] | None = None) -> httpx.Response:
    # A body that is JSON but of no operation's shape (an empty batch for ingestion): whoever gets
    # past authorisation is answered, and nothing is changed.
    body = {"json": []} if "requestBody" in op["spec"] else {}
    return httpx.request(
        op["method"], platform.url(op["service"]) + concrete_path(op), headers=headers or {}, timeout=30, **body
    )


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_v1_operation_is_in_the_scope_table(platform, service):
    served = {key(op) for op in v1_operations(platform, service)}
    declared = {k for k in REQUIRED_SCOPE if k[0] == service}

    assert served, f"{service} serves no /v1 operation"
    assert not served - declared, f"classify these operations in REQUIRED_SCOPE: {sorted(served - declared)}"
    assert not declared - served, f"REQUIRED_SCOPE names operations no longer served: {sorted(declared - served)}"


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_operations_outside_v1_are_only_the_public_and_the_signed_ones(platform, service):
    outside = {key(op) for op in operations(platform, service) if not op["path"].startswith("/v1/")}
    allowed = {(service, method, path) for method, path in PUBLIC} | SIGNED

    assert not outside - allowed, f"unauthenticated operations nobody classified: {sorted(outside - allowed)}"


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_operation_refuses_no_token_a_wrong_token_and_a_token_without_its_scope(platform, tokens, service):
    nobody = tokens.issue(name="no scopes")
    failures = []
    for op in v1_operations(platform, service):
        scope = REQUIRED_SCOPE.get(key(op))
        if scope is None:
            continue  # reported by the table test
        others = tokens.without(scope)
        attempts = {
            "no token": (call(platform, op), 401),
            "a wrong token": (call(platform, op, {"Authorization": f"Bearer dun_{secrets.token_urlsafe(32)}"}), 401),
            "a non-bearer scheme": (call(platform, op, {"Authorization": f"Basic {others.plaintext}"}), 401),
            "a token with no scopes": (call(platform, op, nobody.headers), 403),
            f"a token with every scope but {scope}": (call(platform, op, others.headers), 403),
        }
        for what, (response, expected) in attempts.items():
            if not is_problem(response, expected):
                failures.append(f"{op['method']} {op['path']} with {what}: {response.status_code} {response.text[:160]}")
            elif expected == 401 and response.headers.get("www-authenticate", "").lower() != "bearer":
                failures.append(f"{op['method']} {op['path']} with {what}: 401 without WWW-Authenticate: Bearer")

    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_operation_lets_its_scope_and_admin_through(platform, tokens, service):
    failures = []
    for op in v1_operations(platform, service):
        scope = REQUIRED_SCOPE.get(key(op))
        if scope is None:
            continue
        # Fresh tokens for each call, so that no per-token rate limit can answer instead of the operation.
        for token in (tokens.issue(scope), tokens.issue("admin")):
            response = call(platform, op, token.headers)
            if response.status_code in (401, 403, 429) or response.status_code >= 500:
                failures.append(
                    f"{op['method']} {op['path']} with {token.scopes}: {response.status_code} {response.text[:200]}"
                )

    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_a_delivery_receipt_without_a_valid_signature_is_refused(platform):
    url = platform.url("notification") + "/webhooks/receipts/dev"
    receipt = {"id": "m-1", "status": "delivered"}

    unsigned = httpx.post(url, json=receipt, timeout=10)
    forged = httpx.post(url, json=receipt, headers={"X-Dunning-Signature": "t=1,v1=" + "0" * 64}, timeout=10)

    assert is_problem(unsigned, 401), unsigned.text
    assert is_problem(forged, 401), forged.text
