"""The evidence file of a referral: its parts and a SHA-256 digest of each, so a court or a partner can
check that nothing was changed after the file left us."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

PART_NAMES = ("loan_snapshot", "overdue_history", "contact_attempts", "escalation", "arrangements")
# Files cited before case events were kept have only the first four parts. A part appears only once it
# has content, so rebuilding such a file as of its time still gives the digests it was cited with.
OPTIONAL_PARTS = frozenset({"arrangements"})
CANONICAL_FORM = "JSON, UTF-8, keys sorted, no insignificant whitespace"


def canonical_bytes(part: Any) -> bytes:
    """One byte string per value, whoever serialises it: what the digests are taken over."""
    return json.dumps(part, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(part: Any) -> str:
    return hashlib.sha256(canonical_bytes(part)).hexdigest()


@dataclass(frozen=True)
class EvidenceFile:
    parts: dict[str, Any]

    def digests(self) -> dict[str, str]:
        present = [name for name in PART_NAMES if name in self.parts or name not in OPTIONAL_PARTS]
        return {name: digest(self.parts[name]) for name in present}

    def file_digest(self) -> str:
        """One digest over the part digests, to cite the whole file in a letter or a court filing."""
        return digest(self.digests())

    def as_bundle(self, header: dict[str, Any]) -> dict[str, Any]:
        return {
            **header,
            "parts": self.parts,
            "digests": {"algorithm": "sha256", "canonical_form": CANONICAL_FORM, "parts": self.digests()},
            "file_digest": self.file_digest(),
        }
