"""The referral API for internal legal teams: list, detail, evidence file, status moves, partners.

A token bound to a lender sees only that lender's referrals; to it, the others do not exist (404)."""

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from dunning_legal.adapters.orm import LegalCase
from dunning_legal.adapters.pdf import CjkFontMissing, render
from dunning_legal.adapters.repository import CaseFilters, LegalRepository
from dunning_legal.casefile import bundle_of, demand_facts
from dunning_legal.domain import age
from dunning_legal.domain.letters import demand_letter
from dunning_legal.domain.lifecycle import Status
from dunning_legal.entrypoints.schemas import (
    LegalCaseDetail,
    LegalCasePage,
    LegalCaseView,
    NoticeView,
    PartnerIn,
    PartnerView,
    StatusChange,
    StorableDatetime,
)
from dunning_legal.referrals import assign_waiting, change_status
from dunning_platform.auth import Forbidden, Principal, require_scope
from dunning_platform.errors import InvalidInput, NotFound
from dunning_platform.problems import problem, problem_responses

router = APIRouter(prefix="/v1", tags=["legal cases"], responses=problem_responses())
NO_CASE = {404: "no such legal case, or one of another lender"}
Reader = Annotated[Principal, Depends(require_scope("cases:read"))]
Writer = Annotated[Principal, Depends(require_scope("legal:write"))]
# PostgreSQL text cannot hold NUL, and ids on this platform are at most 128 characters.
_ID = {"min_length": 1, "max_length": 128, "pattern": r"^[^\x00]+$"}
CaseId = Annotated[str, Path(**_ID)]
IdFilter = Annotated[str | None, Query(**_ID)]
# Ages go up to a century of days: further back than any referral, and within what a date can hold.
_AGE = "{} this many whole days since the referral was opened (3 days and 5 hours old is 3 days old)"
AsOf = Annotated[
    StorableDatetime | None,
    Query(description="the file as it stood at this moment (default now), e.g. the one a letter cites"),
]


@router.get("/legal-cases")
async def list_legal_cases(
    request: Request,
    principal: Reader,
    loan_id: IdFilter = None,
    status: Status | None = None,
    partner_id: IdFilter = None,
    lender: IdFilter = None,
    unassigned: Annotated[
        bool | None, Query(description="true: only referrals waiting for a partner; false: only assigned ones")
    ] = None,
    opened_after: Annotated[StorableDatetime | None, Query(description="opened at or after this time")] = None,
    opened_before: Annotated[StorableDatetime | None, Query(description="opened before this time")] = None,
    min_age_days: Annotated[int | None, Query(ge=0, le=36500, description=_AGE.format("at least"))] = None,
    max_age_days: Annotated[int | None, Query(ge=0, le=36500, description=_AGE.format("at most"))] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> LegalCasePage:
    runtime = request.app.state.runtime
    filters = CaseFilters(
        loan_id,
        status,
        partner_id,
        lender,
        opened_after,
        opened_before,
        unassigned=unassigned,
        visible_lender=principal.lender,
        **_age_bounds(runtime.clock.now(), min_age_days, max_age_days),
    )
    async with runtime.uow() as uow:
        # One row more than asked tells whether a next page exists without a count.
        rows = await LegalRepository(uow.session).search(filters, limit=limit + 1, offset=offset)
        items = [LegalCaseView.of(case) for case in rows[:limit]]
    next_offset = offset + limit if len(rows) > limit else None
    return LegalCasePage(items=items, limit=limit, offset=offset, next_offset=next_offset)


def _age_bounds(now: datetime, min_age_days: int | None, max_age_days: int | None) -> dict[str, datetime | None]:
    if min_age_days is not None and max_age_days is not None and min_age_days > max_age_days:
        raise InvalidInput("min_age_days is above max_age_days: no referral can be both", field="min_age_days")
    return {
        "opened_by": None if min_age_days is None else age.opened_by(now, min_age_days),
        "opened_since": None if max_age_days is None else age.opened_since(now, max_age_days),
    }


@router.get("/legal-cases/{legal_case_id}", responses=problem_responses(NO_CASE))
async def get_legal_case(request: Request, legal_case_id: CaseId, principal: Reader) -> LegalCaseDetail:
    async with request.app.state.runtime.uow() as uow:
        repo = LegalRepository(uow.session)
        case = await _visible(repo, legal_case_id, principal)
        return LegalCaseDetail.build(case, await repo.audit_trail(legal_case_id), await repo.notices(legal_case_id))


@router.post(
    "/legal-cases/{legal_case_id}/status",
    responses=problem_responses(
        NO_CASE | {409: "the lifecycle refuses the move, or the referral is with another partner or none yet"},
        body=True,
    ),
)
async def move_legal_case(
    request: Request, legal_case_id: CaseId, body: StatusChange, principal: Writer
) -> LegalCaseView:
    async with request.app.state.runtime.uow() as uow:
        await _visible(LegalRepository(uow.session), legal_case_id, principal)
        case = await change_status(
            uow,
            legal_case_id,
            body.status,
            actor=f"token:{principal.token_id}",
            note=body.note,
            partner_id=body.partner_id,
        )
        await uow.commit()
        return LegalCaseView.of(case)


@router.get("/legal-cases/{legal_case_id}/file", responses=problem_responses(NO_CASE))
async def get_evidence_file(request: Request, legal_case_id: CaseId, principal: Reader, as_of: AsOf = None) -> dict:
    """The evidence bundle: each part with the SHA-256 of its canonical JSON, and one digest over them."""
    runtime = request.app.state.runtime
    cut_off = _cut_off(as_of, runtime.clock.now())
    async with runtime.uow() as uow:
        repo = LegalRepository(uow.session)
        case = await _visible(repo, legal_case_id, principal)
        return await bundle_of(repo, case, cut_off)


@router.get(
    "/legal-cases/{legal_case_id}/file.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
        **problem_responses(NO_CASE | {503: "the CJK font a zh-CN letter needs is not installed"}),
    },
)
async def get_evidence_pdf(
    request: Request,
    legal_case_id: CaseId,
    principal: Reader,
    locale: Annotated[
        Literal["zh-CN", "en"] | None, Query(description="the letter's language; default the borrower's")
    ] = None,
    as_of: AsOf = None,
) -> Response:
    """The demand letter in the borrower's language, then the evidence file with the digest of each part."""
    runtime, settings = request.app.state.runtime, request.app.state.settings
    cut_off = _cut_off(as_of, runtime.clock.now())
    async with runtime.uow() as uow:
        repo = LegalRepository(uow.session)
        case = await _visible(repo, legal_case_id, principal)
        bundle = await bundle_of(repo, case, cut_off)
        facts, borrower_locale = await demand_facts(
            repo,
            case,
            bundle,
            names=request.app.state.policy.names,
            at=cut_off,
            pay_within=timedelta(days=settings.demand_pay_within_days),
        )
    letter = demand_letter(facts, locale or borrower_locale or settings.default_letter_locale)
    try:
        # Laying out CJK text takes about a second; the event loop keeps serving meanwhile.
        content = await asyncio.to_thread(render, letter, bundle)
    except CjkFontMissing as error:
        return problem(503, "PDF unavailable", str(error))
    disposition = f'attachment; filename="legal-case-{legal_case_id}.pdf"'
    return Response(content, media_type="application/pdf", headers={"Content-Disposition": disposition})


@router.get("/partners", tags=["partners"])
async def list_partners(request: Request, principal: Reader) -> dict[str, list[PartnerView]]:
    async with request.app.state.runtime.uow() as uow:
        rows = await LegalRepository(uow.session).partners()
        return {"items": [PartnerView.of(partner, load) for partner, load in rows]}


@router.put("/partners/{partner_id}", tags=["partners"], responses=problem_responses(body=True))
async def put_partner(request: Request, partner_id: CaseId, body: PartnerIn, principal: Writer) -> PartnerView:
    """Add a partner or change one; `active: false` takes it out of future assignments, not current ones.
    Referrals waiting for a partner are assigned at once, by the usual rule, when this one is active."""
    if principal.lender is not None:
        raise Forbidden("the partner registry is shared by all lenders; a token bound to one lender cannot edit it")
    async with request.app.state.runtime.uow() as uow:
        repo = LegalRepository(uow.session)
        fields = body.model_dump(mode="json") | {"fee_terms": body.fee_terms.model_dump(mode="json", exclude_none=True)}
        partner = await repo.save_partner(partner_id, fields)
        if partner.active:
            await assign_waiting(uow, request.app.state.policy)
        await uow.commit()
        return PartnerView.of(partner, await repo.open_referrals_of(partner_id))


@router.get("/partner-notices", tags=["partners"])
async def list_partner_notices(
    request: Request,
    principal: Reader,
    partner_id: IdFilter = None,
    pending: Annotated[bool, Query(description="only notices not yet marked delivered")] = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, list[NoticeView]]:
    """What partners must be told (new referrals, withdrawals, re-assignments), oldest first."""
    if principal.lender is not None:
        raise Forbidden("partner notices span lenders; a token bound to one lender cannot read them")
    async with request.app.state.runtime.uow() as uow:
        notices = await LegalRepository(uow.session).partner_notices(partner_id, pending=pending, limit=limit)
        return {"items": [NoticeView.model_validate(notice) for notice in notices]}


@router.post(
    "/partner-notices/{notice_id}/delivered", tags=["partners"], responses=problem_responses({404: "no such notice"})
)
async def mark_notice_delivered(
    request: Request, notice_id: Annotated[int, Path(ge=1, le=2**63 - 1)], principal: Writer
) -> NoticeView:
    """Called once the partner has the notice; marking it again keeps the first delivery time."""
    runtime = request.app.state.runtime
    async with runtime.uow() as uow:
        notice = await LegalRepository(uow.session).notice(notice_id)
        if notice is None:
            raise NotFound(f"no partner notice {notice_id}")
        notice.sent_at = notice.sent_at or runtime.clock.now()
        await uow.commit()
        return NoticeView.model_validate(notice)


async def _visible(repo: LegalRepository, legal_case_id: str, principal: Principal) -> LegalCase:
    case = await repo.get(legal_case_id)
    if case is None or (principal.lender is not None and case.lender != principal.lender):
        raise NotFound(f"no legal case {legal_case_id}")
    return case


def _cut_off(as_of: datetime | None, now: datetime) -> datetime:
    if as_of is None:
        return now
    if as_of > now:
        raise InvalidInput("as_of is in the future: a file can be shown only as it was", field="as_of")
    return as_of
