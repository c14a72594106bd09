"""Parallel steps that Ctrl-C can stop at once."""

from __future__ import annotations

import threading
from typing import Callable, Iterable


def in_parallel(function: Callable, items: Iterable) -> list:
    """Call `function` on every item at once (containers start in parallel); re-raise the first error.

    Daemon threads, joined in short steps: Ctrl-C reaches the main thread at once, and no worker (a
    readiness wait of up to 90 s) holds the process after it.
    """
    items = list(items)
    if len(items) <= 1:
        return [function(item) for item in items]
    results: list = [None] * len(items)
    errors: list[BaseException | None] = [None] * len(items)

    def run(index: int, item) -> None:
        try:
            results[index] = function(item)
        except BaseException as error:  # handed to the caller below
            errors[index] = error

    threads = [threading.Thread(target=run, args=(i, item), daemon=True) for i, item in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.1)
    first = next((error for error in errors if error is not None), None)
    if first is not None:
        raise first
    return results
