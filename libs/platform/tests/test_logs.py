"""Personal data never reaches a log line."""

import io
import json
import logging

import pytest

from dunning_platform import logs


def test_phones_and_emails_are_masked_but_dates_and_ids_are_kept():
    line = logs.mask("call +86 138 0013 8000 or 13800138000, mail li.lei@example.cn; loan L-2026-0001 due 2026-01-05")
    assert "138 0013" not in line and "13800138000" not in line and "li.lei@example.cn" not in line
    assert "L-2026-0001" in line and "2026-01-05" in line


@pytest.fixture
def log_stream():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    logs.configure("test-service", stream=stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


def test_log_records_are_json_with_pii_fields_masked(log_stream):
    logging.getLogger("t").info("borrower %s reached", "13800138000", extra={"phone": "13800138000", "loan_id": "L1"})
    record = json.loads(log_stream.getvalue().splitlines()[-1])
    assert record["service"] == "test-service"
    assert record["phone"] == "***" and record["loan_id"] == "L1"
    assert "13800138000" not in record["message"]


def test_numeric_arguments_and_the_logger_name_survive_masking(log_stream):
    logging.getLogger("dunning.test").info("sent %d reminders in %.1f s", 3, 0.5)
    record = json.loads(log_stream.getvalue().splitlines()[-1])
    assert record["message"] == "sent 3 reminders in 0.5 s"
    assert record["name"] == "dunning.test"
