"""Ingestion's HTTP API: inbound events, the ledger view, and the aging sweep on demand."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request
from fastapi.responses import JSONResponse

from dunning_contracts.envelope import MAX_EVENT_BYTES
from dunning_ingestion.aging import run_aging_sweep
from dunning_ingestion.entrypoints.intake import (
    SIGNATURE_FORMAT,
    SIGNATURE_HEADER,
    Item,
    SignatureRefused,
    apply,
    parse_item,
    verify_signature,
)
from dunning_ingestion.entrypoints.schemas import BatchResults, IntakeResult, LoanView, SweepView
from dunning_ingestion.views import loan_view
from dunning_platform.auth import Principal, Unauthorized, require_scope
from dunning_platform.errors import InvalidInput, NotFound
from dunning_platform.problems import problem, problem_responses

MAX_BATCH = 5000

router = APIRouter(prefix="/v1", tags=["ingestion"])

EVENT_BODY = Body(
    description="One CloudEvent (LoanBooked, RepaymentReceived, RepaymentFailed, LoanClosed) or a JSON array of them",
)


SIGNATURE = Header(
    alias=SIGNATURE_HEADER,
    description=f"Required from a lender configured with a webhook secret, else ignored: {SIGNATURE_FORMAT}. "
    "The timestamp must be within the tolerance (default 300 s) of the server's time.",
)


async def signed_by_its_lender(
    request: Request,
    signature: Annotated[str | None, SIGNATURE] = None,
    principal: Principal = Depends(require_scope("events:write")),
) -> Principal:
    """401 when the token's lender signs its webhooks and this request's signature is missing, wrong or stale."""
    settings = request.app.state.settings
    lender = settings.lenders.get(principal.lender) if principal.lender else None
    if lender is None or lender.webhook_secret is None:
        return principal
    secret = lender.webhook_secret.get_secret_value().encode()
    now = request.app.state.runtime.clock.now()
    try:
        verify_signature(signature, await request.body(), secret, now, settings.webhook_signature_tolerance_seconds)
    except SignatureRefused as refused:
        raise Unauthorized(str(refused)) from None
    return principal


@router.post(
    "/repayment-events",
    status_code=202,
    response_model=IntakeResult | BatchResults,
    responses={
        200: {"description": "a batch: one result per item; or a single event seen before (duplicate)", "model": IntakeResult | BatchResults},
        202: {"description": "the event was accepted", "model": IntakeResult},
        **problem_responses(
            {
                401: f"no valid bearer token; or the token's lender signs its requests and the {SIGNATURE_HEADER} "
                "header is missing, malformed, stale or does not match the body",
                422: "the event is invalid; `errors` names each field",
            },
            body=True,
        ),
    },
)
async def post_repayment_events(
    request: Request,
    body: Annotated[Any, EVENT_BODY],
    principal: Principal = Depends(signed_by_its_lender),
):
    runtime = request.app.state.runtime
    measure = len(await request.body()) > MAX_EVENT_BYTES
    if isinstance(body, list):
        return await _batch(runtime, body, principal, measure)
    item = (await apply(runtime, [parse_item(0, body, principal, measure=measure)]))[0]
    if item.status == "rejected":
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in item.errors)
        return problem(422, "Invalid event", detail, errors=item.errors)
    return JSONResponse(item.result(), status_code=202 if item.status == "accepted" else 200)


async def _batch(runtime, body: list, principal: Principal, measure: bool) -> JSONResponse:
    if len(body) > MAX_BATCH:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH} events, this one {len(body)}", field="body")
    items = await apply(runtime, [parse_item(index, raw, principal, measure=measure) for index, raw in enumerate(body)])
    return JSONResponse({"results": [i.result() for i in items], **_counts(items)})


def _counts(items: list[Item]) -> dict:
    return {status: sum(1 for i in items if i.status == status) for status in ("accepted", "duplicate", "rejected")}


@router.get("/loans/{loan_id}", response_model=LoanView, responses=problem_responses({404: "no such loan"}))
async def get_loan(loan_id: str, request: Request, principal: Principal = Depends(require_scope("cases:read"))) -> dict:
    runtime = request.app.state.runtime
    async with runtime.uow() as uow:
        found = await uow.ledgers.get_with_ledger(loan_id)
    if found is None or (principal.lender and found[0].lender != principal.lender):
        raise NotFound(f"no loan {loan_id}")
    loan, ledger = found
    return loan_view(loan, ledger, runtime.clock.now())


@router.post("/aging-sweeps", response_model=SweepView, responses=problem_responses())
async def post_aging_sweep(request: Request, _: Principal = Depends(require_scope("admin"))) -> dict:
    """Run the daily aging sweep now (operations and tests; it also runs by itself once a day)."""
    result = await run_aging_sweep(request.app.state.runtime)
    return {"run_on": result.run_on.isoformat(), "loans_aged": result.loans_aged, "notices": result.notices}
