from datetime import UTC, datetime

import pytest

from dunning_ingestion.entrypoints.intake import SignatureRefused, sign, verify_signature

SECRET = b"s3cret"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())
BODY = b'{"id":"e-1"}'


def test_the_signature_is_the_hex_hmac_sha256_of_the_timestamp_a_dot_and_the_body():
    # Computed independently: printf '1795770000.{"id":"e-1"}' | openssl dgst -sha256 -hmac s3cret
    assert sign(SECRET, T, BODY) == "943004b76a7e255975c33876fd181a483f8e78e25ecef16156d600bc32e0b401"


def test_a_valid_signature_within_the_tolerance_passes():
    verify_signature(f"t={T - 299},v1={sign(SECRET, T - 299, BODY)}", BODY, SECRET, NOW, 300)


def test_one_matching_signature_among_several_passes_as_during_a_secret_rotation():
    header = f"t={T},v1={sign(b'old', T, BODY)},v1={sign(SECRET, T, BODY).upper()}"
    verify_signature(header, BODY, SECRET, NOW, 300)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "header is missing"),
        ("", "header is missing"),
        (f"v1={sign(SECRET, T, BODY)}", "malformed"),
        (f"t=soon,v1={sign(SECRET, T, BODY)}", "malformed"),
        (f"t={T}", "malformed"),
        (f"t={T - 301},v1={sign(SECRET, T - 301, BODY)}", "more than 300 s"),
        (f"t={T + 301},v1={sign(SECRET, T + 301, BODY)}", "more than 300 s"),
        (f"t={T},v1={sign(SECRET, T - 1, BODY)}", "does not match"),
        (f"t={T},v1=é{sign(SECRET, T, BODY)[1:]}", "does not match"),
    ],
)
def test_a_missing_malformed_stale_or_wrong_signature_is_refused_saying_why(header, reason):
    with pytest.raises(SignatureRefused, match=reason):
        verify_signature(header, BODY, SECRET, NOW, 300)


def test_the_openapi_document_describes_the_signature_header_and_its_401():
    from dunning_ingestion.config import Settings
    from dunning_ingestion.main import create_service_app

    app = create_service_app(Settings(database_url="postgresql+asyncpg://x@/y", tokens_file="/tmp/none.json"))
    operation = app.openapi()["paths"]["/v1/repayment-events"]["post"]

    header = next(p for p in operation["parameters"] if p["name"] == "X-Dunning-Signature")
    assert header["in"] == "header" and not header["required"]
    assert 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"' in header["description"]
    assert "X-Dunning-Signature" in operation["responses"]["401"]["description"]
