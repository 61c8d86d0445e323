"""Makes the test kit (helpers shared by unit and integration tests) importable as `legal_testkit`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
