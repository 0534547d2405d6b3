"""``Timer``: ``timeit.Timer`` with warmup, a fixed thread count and replicates; torch's
``torch.utils.benchmark.Timer`` (Python statements; no C++, no Callgrind)."""
from __future__ import annotations

import enum
import textwrap
import timeit
from collections.abc import Callable
from typing import Any

from . import common

__all__ = ["Timer", "timer", "Language"]


def timer() -> float:
    """The default clock: ``timeit.default_timer`` (ember runs on the CPU: nothing to
    synchronize first)."""
    return timeit.default_timer()


class Language(enum.Enum):
    """The language of a Timer's statement."""

    PYTHON = 0
    CPP = 1


class Timer:
    """Measure how long a statement takes, as torch's ``benchmark.Timer``.

    Unlike ``timeit.Timer`` it warms up first, runs the statement with ``num_threads``
    BLAS threads (one by default: single-threaded numbers compare fairly) and returns a
    ``Measurement`` of replicates (median, IQR) rather than a number.

    Args:
        stmt: code to run in a loop and time.
        setup: code run once before, to define what ``stmt`` uses.
        global_setup: C++ only; must be empty.
        timer: the clock (``timeit.default_timer``).
        globals: the variables ``stmt`` sees (copied); ``torch`` is ``ember`` there unless
            given, so statements written for torch run.
        label: short name of ``stmt`` (a table's title in ``Compare``).
        sub_label: distinguishes measurements of one label (``Compare``'s rows).
        description: distinguishes measurements of one label and sub_label
            (``Compare``'s columns).
        env: tags measurements made in different environments (A/B tests).
        num_threads: BLAS threads while the statement runs.
        language: ``Language.PYTHON`` (or ``"py"``, ``"python"``).

    Raises:
        ValueError: a non-string ``stmt``, a ``global_setup`` for Python, an unknown
            language.
        NotImplementedError: C++ (``Language.CPP``): ember has no C++ to time.

    Example::

        t = Timer("x @ x", globals={"x": ember.randn(64, 64)}, label="mm")
        print(t.blocked_autorange(min_run_time=0.1))
    """

    _timer_cls = timeit.Timer

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = timer, globals: dict[str, Any] | None = None,
                 label: str | None = None, sub_label: str | None = None,
                 description: str | None = None, env: str | None = None,
                 num_threads: int = 1, language: Language | str = Language.PYTHON) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        self._globals = dict(globals or {})  # a copy: exec adds __builtins__
        if language in (Language.PYTHON, "py", "python"):
            import ember

            self._globals.setdefault("torch", ember)
            self._language = Language.PYTHON
            if global_setup:
                raise ValueError(f"global_setup is C++ only, got `{global_setup}`. Most "
                                 "likely this code can simply be moved to `setup`.")
        elif language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError("Timer(language='c++'): ember has no C++ API to time; "
                                      "time Python statements instead.")
        else:
            raise ValueError(f"Invalid language `{language}`.")
        # the leading newline of a block string and common indentation go, as in torch
        stmt = textwrap.dedent(stmt)
        stmt = (stmt[1:] if stmt and stmt[0] == "\n" else stmt).rstrip()
        setup = textwrap.dedent(setup)
        setup = (setup[1:] if setup and setup[0] == "\n" else setup).rstrip()
        self._timer = self._timer_cls(stmt=stmt, setup=setup, timer=timer,
                                      globals=self._globals)
        self._task_spec = common.TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup,
                                          label=label, sub_label=sub_label,
                                          description=description, env=env,
                                          num_threads=num_threads)

    def _timeit(self, number: int) -> float:
        # no real statement takes under a nanosecond (and this keeps divisions finite)
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> common.Measurement:
        """Run ``stmt`` ``number`` times (after a warmup of ``number // 100``, at least 2)
        and return that one measurement (``timeit.Timer.timeit``'s semantics)."""
        with common.set_torch_threads(self._task_spec.num_threads):
            self._timeit(number=max(int(number // 100), 2))
            return common.Measurement(number_per_run=number,
                                      raw_times=[self._timeit(number=number)],
                                      task_spec=self._task_spec)

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        """Not provided (as in torch): see ``blocked_autorange``."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Callable[[int, float], None] | None = None) -> None:
        """Not provided (as in torch): see ``blocked_autorange``."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _threaded_measurement_loop(self, number: int, time_hook: Callable[[], float],
                                   stop_hook: Callable[[list[float]], bool],
                                   min_run_time: float, max_run_time: float | None = None,
                                   callback: Callable[[int, float], None] | None = None
                                   ) -> list[float]:
        total_time = 0.0
        can_stop = False
        times: list[float] = []
        with common.set_torch_threads(self._task_spec.num_threads):
            while (total_time < min_run_time) or (not can_stop):
                time_spent = time_hook()
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                can_stop = stop_hook(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time: float) -> int:
        """Runs per measurement: grown tenfold until the clock's overhead is under 0.01% of
        a block (and a block at least ``min_run_time / 1000``), or a block takes longer
        than ``min_run_time``. Doubles as the warmup."""
        with common.set_torch_threads(self._task_spec.num_threads):
            overheads = sorted(self._timeit(0) for _ in range(5))
            overhead = overheads[2]
            number = 1
            while True:
                time_taken = self._timeit(number)
                relative_overhead = overhead / time_taken
                if relative_overhead <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time:
                    break
                if number * 10 > 2147483647:  # torch's C++ int limit
                    break
                number *= 10
        return number

    def blocked_autorange(self, callback: Callable[[int, float], None] | None = None,
                          min_run_time: float = 0.2) -> common.Measurement:
        """Measure blocks of ``stmt`` until ``min_run_time`` seconds have been spent.

        The block size (runs per measurement) is chosen first so that the clock's overhead
        is negligible (``_estimate_block_size``); small blocks give more replicates, large
        ones less bias.

        Args:
            callback: called as ``callback(number, time)`` after each block.
            min_run_time: total time to spend measuring.

        Returns:
            A ``Measurement`` of the blocks.
        """
        number = self._estimate_block_size(min_run_time)
        times = self._threaded_measurement_loop(number, lambda: self._timeit(number),
                                                lambda times: True,
                                                min_run_time=min_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times,
                                  task_spec=self._task_spec)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0,
                           callback: Callable[[int, float], None] | None = None
                           ) -> common.Measurement:
        """Like ``blocked_autorange``, but keep measuring until the spread is small: stop
        when there are more than 3 blocks, ``min_run_time`` has passed and IQR / median
        is under ``threshold``, or when ``max_run_time`` has passed.

        Args:
            threshold: the IQR / median to reach.
            min_run_time: total time before the spread is checked.
            max_run_time: total time after which to stop regardless.
            callback: called as ``callback(number, time)`` after each block.

        Returns:
            A ``Measurement`` of the blocks.
        """
        number = self._estimate_block_size(min_run_time=0.05)

        def stop_hook(times: list[float]) -> bool:
            if len(times) > 3:
                return common.Measurement(number_per_run=number, raw_times=times,
                                          task_spec=self._task_spec
                                          ).meets_confidence(threshold=threshold)
            return False

        times = self._threaded_measurement_loop(number, lambda: self._timeit(number),
                                                stop_hook, min_run_time, max_run_time,
                                                callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times,
                                  task_spec=self._task_spec)

    def collect_callgrind(self, number: int = 100, *, repeats: int | None = None,
                          collect_baseline: bool = True, retain_out_file: bool = False):
        """Not supported: torch runs the statement under Valgrind's Callgrind in a
        subprocess to count instructions; ember does not.

        Raises:
            ValueError: ``repeats`` below 1 (torch's check).
            NotImplementedError: always otherwise.
        """
        if repeats is not None and repeats < 1:
            raise ValueError("If specified, `repeats` must be >= 1")
        raise NotImplementedError("Timer.collect_callgrind is not supported by ember (no "
                                  "Valgrind/Callgrind instruction counts); use "
                                  "blocked_autorange or adaptive_autorange.")
