"""`--profile`: py-spy samples each service process during its measurement; the folded stacks are
summarised into "where the time goes" (busy samples only: py-spy leaves idle threads out)."""

import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
TOP = 8
LOOP_LEAVES = ("Runner.run (", "run (asyncio/runners.py)", "run_until_complete (", "run_forever (")


def available() -> bool:
    return shutil.which("py-spy") is not None or (Path(__file__).parents[2] / ".venv/bin/py-spy").exists()


def start(pid: int, out: Path) -> subprocess.Popen:
    binary = shutil.which("py-spy") or str(Path(__file__).parents[2] / ".venv/bin/py-spy")
    argv = [binary, "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "--nonblocking", "-o", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(recorder: subprocess.Popen) -> None:
    """py-spy writes its file when the process it watches exits, or on SIGINT."""
    try:
        recorder.wait(10)
    except subprocess.TimeoutExpired:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(10)


def _frame(raw: str) -> str:
    match = FRAME.match(raw.strip())
    if not match:
        return raw.strip()
    path = match["file"]
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['function']} ({path})"


def summarise(folded: Path) -> dict[str, list[tuple[str, float]]]:
    """Top functions by own time and by inclusive time, each as a share of the busy samples."""
    own, inclusive, total, in_loop = Counter(), Counter(), 0, 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        samples = int(count)
        if frames[-1].startswith(LOOP_LEAVES):
            # uvloop is native: a stack that ends in the runner is the loop itself, waiting or doing I/O.
            in_loop += samples
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return {}
    ours = Counter({f: n for f, n in inclusive.items() if "dunning_" in f})
    return {
        "busy samples": [("", float(total))],
        "event loop samples": [("", float(in_loop))],
        "own time": [(f, n / total) for f, n in own.most_common(TOP)],
        "inclusive, platform code": [(f, n / total) for f, n in ours.most_common(TOP)],
    }


def markdown(profiles: dict[str, dict[str, list[tuple[str, float]]]]) -> str:
    lines = ["## Where the time goes", "",
             "py-spy samples (100/s) of each service process during its measurement (`--profile`), shares of the",
             "samples in Python code; samples inside the native event loop (uvloop: waiting, socket I/O) are",
             "counted apart.", ""]
    for name, summary in profiles.items():
        if not summary:
            continue
        busy, loop = summary["busy samples"][0][1], summary["event loop samples"][0][1]
        lines += [f"### {name}", "", f"{busy:,.0f} samples in Python code, {loop:,.0f} in the event loop.", ""]
        for title in ("own time", "inclusive, platform code"):
            lines += [f"{title}:", ""]
            lines += [f"- {share:5.1%} `{frame}`" for frame, share in summary[title]]
            lines.append("")
    return "\n".join(lines)
