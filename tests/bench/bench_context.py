"""What every measurement of one run shares: the stack, the sizes, the baseline broker and database."""

from dataclasses import dataclass, field

from .bench_results import Result
from .bench_sizes import Sizes
from .bench_stack import BenchStack


@dataclass
class Bench:
    stack: BenchStack
    sizes: Sizes
    zone: str  # a borrower time zone in daytime now, so no quiet hours suppress the benchmark's reminders
    profile: bool = False  # py-spy each service process (--profile)
    current: str = ""  # the measurement running now, to label its profiles
    profiles: dict[str, dict] = field(default_factory=dict)
    statements: bool = False  # PostgreSQL's top statements of each measurement (--pg-statements)
    top_statements: dict[str, list] = field(default_factory=dict)
    results: dict[str, Result] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.log.append(line)
        print(line, flush=True)
