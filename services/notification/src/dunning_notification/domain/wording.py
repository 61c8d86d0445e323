"""Wording a collections message must never carry: threats, impersonating courts, police or government,
false blacklists, and disclosure of the debt to others. Templates are checked line by line when loaded."""

import re
from dataclasses import dataclass

# Each pattern names what it forbids, so a refused template says why.
FORBIDDEN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("threat of arrest or prison", re.compile(r"坐牢|拘留|逮捕|判刑|刑事责任|\b(arrest|jail|prison|criminal)\w*", re.I)),
    ("impersonating police", re.compile(r"公安|警察|警方|派出所|\bpolice\b", re.I)),
    ("impersonating a court", re.compile(r"法院传票|传票|法院已|强制执行令|\b(summons|warrant|court order)\b", re.I)),
    ("impersonating government", re.compile(r"政府部门|国家机关|\b(government agency|federal agent)\b", re.I)),
    ("false blacklist", re.compile(r"黑名单|失信名单|\bblacklist\w*", re.I)),
    ("public shaming", re.compile(r"曝光|公之于众|\b(expose you|shame)\b", re.I)),
    (
        "disclosure to third parties",
        re.compile(r"通讯录|亲友|家人|同事|单位领导|\b(your (family|employer|friends|neighbou?rs|contacts))\b", re.I),
    ),
    ("intimidation", re.compile(r"后果自负|走着瞧|\b(or else|you will regret)\b", re.I)),
)


@dataclass(frozen=True)
class Violation:
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason} ({self.text.strip()[:60]!r})"


def violations(source: str) -> list[Violation]:
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        for reason, pattern in FORBIDDEN:
            if pattern.search(line):
                found.append(Violation(number, line, reason))
    return found
