"""The consumer processes' metrics (workers.py), served by the HTTP process's /metrics beside its own.

Each worker runs prometheus_client in multiprocess mode: its counters, histograms and gauges live in
memory-mapped files in a directory the parent made for this run. The parent keeps its own registry
in memory (it imported prometheus_client long before it knew it would have workers), and /metrics
merges the two by family: counts and histograms are added up; a gauge the parent reports itself wins
(the lag of a partition it holds now, a backlog it read from the same database), the workers' fill in
the rest (the partitions they hold)."""

import glob
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

from prometheus_client import REGISTRY, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample

ADDED_UP = {"counter", "histogram", "summary"}


PREFIX = "ingestion-metrics-"


def new_directory_name() -> str:
    # The service's pid in the name: a later start can tell the directory of a service that died.
    return os.path.join(tempfile.gettempdir(), f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex}")


def make_directory(directory: str) -> None:
    remove_abandoned()
    os.makedirs(directory, mode=0o700)  # fresh: no other run's files to add up


def remove_abandoned() -> None:
    """The directories of services killed before they could remove theirs (SIGKILL, a crash)."""
    for directory in glob.glob(os.path.join(tempfile.gettempdir(), f"{PREFIX}*-*")):
        pid = os.path.basename(directory)[len(PREFIX):].split("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            remove_directory(directory)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def enter_multiprocess_mode(directory: str) -> None:
    """In a worker, before any metric is built: values go to files the parent reads."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    from prometheus_client import values

    # The value class is chosen when prometheus_client is imported; it may have been already.
    values.ValueClass = values.get_value_class()


def worker_exited(directory: str, pid: int) -> None:
    """Its live gauges go (its lag is no one's now); its counts stay, as counts do."""
    multiprocess.mark_process_dead(pid, directory)


def remove_directory(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)


class ServiceMetrics:
    """A collector for generate_latest: this process's registry merged with its workers' files."""

    def __init__(self, directory: str) -> None:
        self._directory = directory

    def collect(self) -> Iterator[Metric]:
        theirs = {family.name: family for family in self._workers_metrics()}
        for family in REGISTRY.collect():
            yield merged(family, theirs.pop(family.name, None))
        yield from theirs.values()


    def _workers_metrics(self) -> list[Metric]:
        if not os.path.isdir(self._directory):
            return []  # not started yet, or stopped
        return list(multiprocess.MultiProcessCollector(None, path=self._directory).collect())


def merged(own: Metric, theirs: Metric | None) -> Metric:
    if theirs is None:
        return own
    family = Metric(own.name, own.documentation, own.type, own.unit)
    family.samples = added_up(own, theirs) if own.type in ADDED_UP else own_first(own, theirs)
    return family


def added_up(own: Metric, theirs: Metric) -> list[Sample]:
    totals = {_key(s): s for s in own.samples}
    for sample in theirs.samples:
        known = totals.get(_key(sample))
        if known is None:
            totals[_key(sample)] = sample
        elif not sample.name.endswith("_created"):  # a creation time is not a count
            totals[_key(sample)] = known._replace(value=known.value + sample.value)
    return list(totals.values())


def own_first(own: Metric, theirs: Metric) -> list[Sample]:
    mine = {_key(s) for s in own.samples}
    return own.samples + [s for s in theirs.samples if _key(s) not in mine]


def _key(sample: Sample) -> tuple:
    return sample.name, tuple(sorted(sample.labels.items()))
