"""python -m dunning_platform.devstack run | token --scopes ..."""

import argparse
import sys

from dunning_platform.auth import SCOPES, issue_token
from dunning_platform.devstack.services import SERVICES, service
from dunning_platform.devstack.state import StateDir


def _run(arguments: argparse.Namespace) -> int:
    from dunning_platform.devstack.supervisor import run

    chosen = tuple(service(name) for name in arguments.services.split(",")) if arguments.services else SERVICES
    return run(chosen)


def _token(arguments: argparse.Namespace) -> int:
    state = StateDir.from_env()
    token = issue_token(state.tokens_file, name=arguments.name, scopes=arguments.scopes, lender=arguments.lender)
    print(token)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dunning_platform.devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the whole platform in the foreground (make run)")
    run.add_argument("--services", help="a comma-separated subset, e.g. ingestion,dunning-scheduler")
    run.set_defaults(handler=_run)
    token = commands.add_parser("token", help="issue a bearer token into the state dir's tokens file")
    token.add_argument("--name", required=True)
    token.add_argument("--scopes", nargs="+", required=True, choices=SCOPES)
    token.add_argument("--lender", help="restrict the token to one lender's events")
    token.set_defaults(handler=_token)
    arguments = parser.parse_args(argv)
    return arguments.handler(arguments)


if __name__ == "__main__":
    sys.exit(main())
