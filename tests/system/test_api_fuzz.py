"""Schemathesis against the four running services: no request, however odd, gets a server error or a
response that breaks the service's own OpenAPI document."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dunning_platform.devstack.services import SERVICES

pytestmark = pytest.mark.slow
EXAMPLES = os.environ.get("DUNNING_FUZZ_EXAMPLES", "25")


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_no_request_gets_a_server_error_or_an_undocumented_response(running_platform, service, tmp_path):
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{running_platform.url(service)}/openapi.json",
        "--header",
        f"Authorization: Bearer {running_platform.admin_token}",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--max-examples",
        EXAMPLES,
        "--request-timeout",
        "10",
        "--seed",
        "20261127",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
