"""Writes the policy's JSON Schema and the default policy into docs/policy/:
`python -m dunning_scheduler.policy_docs`. A unit test fails when the files are stale."""

import json
from pathlib import Path

from dunning_platform.devstack.state import repo_root
from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.policy import Policy

SCHEMA_FILE = "policy.schema.json"
DEFAULT_FILE = "default-policy.json"


def docs_dir() -> Path:
    return repo_root() / "docs" / "policy"


def rendered() -> dict[str, str]:
    schema = Policy.model_json_schema(mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:dunning:policy", **schema}
    return {
        SCHEMA_FILE: json.dumps(schema, indent=2, ensure_ascii=False) + "\n",
        DEFAULT_FILE: json.dumps(DEFAULT_POLICY.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n",
    }


def main() -> None:
    docs_dir().mkdir(parents=True, exist_ok=True)
    for name, content in rendered().items():
        (docs_dir() / name).write_text(content)
        print(f"wrote {docs_dir() / name}")


if __name__ == "__main__":
    main()
