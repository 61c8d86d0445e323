"""Consumer processes beside the service's own process: applying a batch is CPU-bound Python, so one
process uses one core however many consumer tasks it runs. Each worker is the same runtime without
HTTP or the sweep: members of the same consumer group (the inbound topic has four partitions), with
the inbox, advisory locks and outbox in PostgreSQL keeping them from stepping on each other.

Their metrics reach Prometheus through the service's /metrics (worker_metrics.py).

A worker stops when the service stops it (SIGTERM), on Ctrl-C, or when its parent is gone."""

import asyncio
import logging
import multiprocessing
import os
import signal
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from dunning_ingestion import worker_metrics
from dunning_platform import logs

log = logging.getLogger(__name__)

STOP_TIMEOUT = 20.0


class Workers:
    def __init__(self, settings, count: int) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the parent's event loop or connections
        # A pipe per worker, not an Event: it says "started" without named semaphores left to clean up.
        pipes = [context.Pipe(duplex=False) for _ in range(count)]
        self._started = [receiving for receiving, _ in pipes]
        self._up = [False] * count
        self.metrics_directory = worker_metrics.new_directory_name()  # made when the workers start
        arguments = (settings, os.getpid(), self.metrics_directory)
        self._processes: list[BaseProcess] = [
            context.Process(target=run_worker, args=(*arguments, sending), name=f"ingestion-consumer-{n}")
            for n, (_, sending) in enumerate(pipes, start=1)
        ]

    def start(self) -> None:
        worker_metrics.make_directory(self.metrics_directory)
        for process in self._processes:
            process.start()

    def problem(self) -> str | None:
        """None while every worker runs; else what keeps the service from being ready."""
        if any(not p.is_alive() for p in self._processes):
            return "a consumer process exited"
        self._up = [up or started.poll() for up, started in zip(self._up, self._started)]
        return None if all(self._up) else "consumer processes starting"

    def stop(self) -> None:
        """Blocking: each worker finishes the batch in hand, flushes its outbox and exits."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join(STOP_TIMEOUT)
            if process.is_alive():
                log.warning("consumer process %s did not stop in time; killing it", process.name)
                process.kill()
                process.join()
            if process.pid is not None:
                worker_metrics.worker_exited(self.metrics_directory, process.pid)
        worker_metrics.remove_directory(self.metrics_directory)


def run_worker(settings, parent_pid: int, metrics_directory: str, started: Connection) -> None:
    worker_metrics.enter_multiprocess_mode(metrics_directory)
    logs.configure("ingestion", settings.log_level)
    asyncio.run(_consume_until_stopped(settings, parent_pid, started))


async def _consume_until_stopped(settings, parent_pid: int, started: Connection) -> None:
    from dunning_ingestion.main import worker_runtime  # the worker imports the service only once spawned

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runtime = worker_runtime(settings)
    await runtime.start()
    started.send(True)
    try:
        while not stop.is_set() and os.getppid() == parent_pid:
            await _wait(stop, 1.0)
    finally:
        await runtime.stop()


async def _wait(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        pass
