"""Concurrency tests on PostgreSQL: run jobs in threads that start together, each thread with its
own database connection, and collect what they answered and what they raised."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from django.db import connections


def at_once[R](
    jobs: Sequence[Callable[[], R]], *, timeout: float = 120
) -> tuple[list[R], list[BaseException]]:
    """Start every job at the same instant (a barrier), one thread each; return the results and
    the exceptions (judged by the caller). Every thread is joined, its connection closed."""
    results: list[R] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], R]) -> None:
        try:
            start.wait()
            results.append(job())
        except BaseException as exc:  # handed to the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a job did not finish in time"
    return results, errors


def all_succeed[R](jobs: Sequence[Callable[[], R]], *, timeout: float = 120) -> list[R]:
    """``at_once``, where any exception fails the test."""
    results, errors = at_once(jobs, timeout=timeout)
    assert not errors, errors
    return results
