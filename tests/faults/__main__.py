"""python -m tests.faults [--loans 10000 --rate 30 --kills 20 ...]: one fault run, its table, exit 1 on
any lost or duplicated effect."""

import argparse
import sys
from dataclasses import fields

from tests.faults.scenario import FaultRun, Sizes


def parse(argv: list[str] | None = None) -> Sizes:
    parser = argparse.ArgumentParser(prog="python -m tests.faults", description=__doc__)
    for spec in fields(Sizes):
        flag = "--" + spec.name.replace("_", "-")
        if spec.type in (bool, "bool"):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=spec.default)
        else:
            kind = {"int": int, "float": float}.get(spec.type if isinstance(spec.type, str) else spec.type.__name__)
            parser.add_argument(flag, type=kind, default=spec.default)
    return Sizes(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    outcome = FaultRun(parse(argv)).run()
    print(outcome.report.table(), flush=True)
    return 1 if outcome.report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
