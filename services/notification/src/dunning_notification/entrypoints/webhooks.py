"""Provider callbacks. Providers hold no bearer token of ours: a receipt proves itself by its HMAC signature."""

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field, ValidationError

from dunning_notification.adapters.signatures import verify
from dunning_notification.domain.reminders import DeliveryReceipt
from dunning_notification.entrypoints.schemas import StorableDatetime
from dunning_notification.handlers import on_delivery_receipt
from dunning_platform.auth import Unauthorized
from dunning_platform.errors import InvalidInput
from dunning_platform.problems import problem_responses

SIGNATURE_HEADER = "X-Dunning-Signature"
router = APIRouter(
    prefix="/webhooks",
    tags=["provider callbacks"],
    responses=problem_responses({401: f"the {SIGNATURE_HEADER} header is missing, stale or wrong"}, bearer=False),
)
# Text without NUL: PostgreSQL cannot store it.
_TEXT = r"^[^\x00]*$"


class ReceiptIn(BaseModel):
    id: str = Field(min_length=1, max_length=256, pattern=_TEXT, description="the provider's message id")
    reference: str | None = Field(default=None, max_length=256, pattern=_TEXT, description="our reminder id")
    status: Literal["delivered", "failed"]
    reason: str | None = Field(default=None, max_length=500, pattern=_TEXT)
    occurred_at: StorableDatetime | None = None


# The body is read raw (the signature covers its exact bytes), so its shape is documented here by hand.
_RECEIPT_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": ReceiptIn.model_json_schema()}}}}


@router.post("/receipts/{provider}", status_code=204, response_class=Response, openapi_extra=_RECEIPT_BODY)
async def delivery_receipt(provider: Annotated[str, Path(max_length=64, pattern=_TEXT)], request: Request) -> Response:
    body = await request.body()
    _authenticate(request, body)
    receipt = _parse(provider, body)
    async with request.app.state.runtime.uow() as uow:
        await on_delivery_receipt(uow, receipt, source=request.app.state.settings.source)
        await uow.commit()
    return Response(status_code=204)


def _authenticate(request: Request, body: bytes) -> None:
    secret = request.app.state.settings.receipt_secret
    # Wall-clock time on purpose: the signature's freshness is about the real world, not a test clock.
    if secret is None or not verify(secret.get_secret_value(), request.headers.get(SIGNATURE_HEADER), body, time.time()):
        raise Unauthorized(f"the {SIGNATURE_HEADER} header is missing, stale or wrong")


def _parse(provider: str, body: bytes) -> DeliveryReceipt:
    try:
        receipt = ReceiptIn.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None
    return DeliveryReceipt(provider, receipt.id, receipt.reference, receipt.status, receipt.reason, receipt.occurred_at)


