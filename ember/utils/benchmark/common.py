"""What a measurement is: ``TaskSpec`` (what ran) and ``Measurement`` (its times and their
statistics), with the number formatting helpers ``Compare`` uses; torch's
``torch.utils.benchmark.utils.common``.

torch computes a few of these statistics on float32 tensors (the significant figures, the
unit, the trimming); they are computed in float32 here too, so that the same times print
the same way.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import textwrap
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

__all__ = ["TaskSpec", "Measurement", "select_unit", "unit_to_english", "trim_sigfig",
           "ordered_unique", "set_torch_threads"]

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # 25 ns

# a Measurement warns when the spread (IQR / median) is above these
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


def _log10_f32(x: float) -> float:
    return float(np.log10(np.float32(x)))


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What a ``Timer`` runs (everything but its globals): the statement, its setup and the
    labels that ``Compare`` groups by."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        """Best effort attempt at a string label for the measurement."""
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        elif "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        return (f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n"
                f"{textwrap.indent(self.stmt, '  ')}")

    def setup_str(self) -> str:
        """The setup as the repr shows it ("" when there is none)."""
        if self.setup == "pass" or not self.setup:
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        """The task's part of a Measurement's repr: title, description, setup."""
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join([f"{i}\n" if "\n" in i else i for i in sections if i])


_TASKSPEC_FIELDS = tuple(i.name for i in dataclasses.fields(TaskSpec))


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The result of a Timer measurement: ``raw_times`` (seconds for ``number_per_run``
    runs each) and their statistics per run (``times``, ``median``, ``mean``, ``iqr``).
    The TaskSpec's fields read through (``m.label``, ``m.num_threads``).

    Args:
        number_per_run: runs of the statement in each raw time.
        raw_times: the measured times, in seconds.
        task_spec: what was measured.
        metadata: anything the caller wants to keep with it.
    """

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict[Any, Any] | None = None  # reserved for user payloads

    def __post_init__(self) -> None:
        self._sorted_times: tuple[float, ...] = ()
        self._warnings: tuple[str, ...] = ()
        self._median: float = -1.0
        self._mean: float = -1.0
        self._p25: float = -1.0
        self._p75: float = -1.0

    def __getattr__(self, name: str) -> Any:
        # forward TaskSpec fields for convenience
        if name in _TASKSPEC_FIELDS:
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    # times are raw times divided by number_per_run: an extrapolation that hides how the
    # overhead amortizes, harmless when the Timer chose number_per_run well
    @property
    def times(self) -> list[float]:
        """Seconds per run of the statement, one per measurement."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        """Median of ``times``."""
        self._lazy_init()
        return self._median

    @property
    def mean(self) -> float:
        """Mean of ``times``."""
        self._lazy_init()
        return self._mean

    @property
    def iqr(self) -> float:
        """Interquartile range of ``times`` (75th minus 25th percentile, interpolated)."""
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self) -> int:
        """Rough estimate of the significant figures of the median (1 to 4), from the
        spread of the interquartile points (z = 1.645); ``Compare`` trims to it."""
        self._lazy_init()
        n_total = len(self._sorted_times)
        lower_bound = int(n_total // 4)
        upper_bound = int(np.ceil(np.float32(3 * n_total / 4)))
        interquartile_points = self._sorted_times[lower_bound:upper_bound]
        std = float(np.std(np.asarray(interquartile_points, np.float32)))
        sqrt_n = float(np.sqrt(np.float32(len(interquartile_points))))
        confidence_interval = max(1.645 * std / sqrt_n, _MIN_CONFIDENCE_INTERVAL)
        relative_ci = _log10_f32(self._median / confidence_interval)
        num_significant_figures = int(np.floor(np.float32(relative_ci)))
        return min(max(num_significant_figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self) -> bool:
        """Whether the spread is large enough to warn about (IQR above 10% of the median)."""
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self) -> None:
        if self.raw_times and not self._sorted_times:
            self._sorted_times = tuple(sorted(self.times))
            sorted_times = np.asarray(self._sorted_times, np.float64)
            self._median = float(np.quantile(sorted_times, 0.5))
            self._mean = float(sorted_times.mean())
            self._p25 = float(np.quantile(sorted_times, 0.25))
            self._p75 = float(np.quantile(sorted_times, 0.75))

            def add_warning(msg: str) -> None:
                rel_iqr = self.iqr / self.median * 100
                self._warnings += (f"  WARNING: Interquartile range is {rel_iqr:.1f}% "
                                   f"of the median measurement.\n           {msg}",)

            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
                add_warning("This suggests significant environmental influence.")
            elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
                add_warning("This could indicate system fluctuation.")

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        """Whether IQR / median is below ``threshold``."""
        return self.iqr / self.median < threshold

    @property
    def title(self) -> str:
        """The TaskSpec's title."""
        return self.task_spec.title

    @property
    def env(self) -> str | None:
        """The TaskSpec's ``env`` (None when unspecified, as torch's reads in effect)."""
        return self.task_spec.env

    @property
    def as_row_name(self) -> str:
        """The row ``Compare`` puts this in: ``sub_label``, else the statement."""
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self) -> str:
        """torch's layout: title, description, setup, then median, IQR and counts, e.g.::

            <ember.utils.benchmark.common.Measurement object at 0x7f395b6ac110>
            Broadcasting add (4x8)
              Median: 5.73 us
              IQR:    2.25 us (4.01 to 6.26)
              372 measurements, 100 runs per measurement, 1 thread
        """
        self._lazy_init()
        skip_line, newline = "MEASUREMENT_REPR_SKIP_LINE", "\n"
        n = len(self._sorted_times)
        time_unit, time_scale = select_unit(self._median)
        iqr_filter = "" if n >= 4 else skip_line
        repr_str = f"""
{super().__repr__()}
{self.task_spec.summarize()}
  {'Median: ' if n > 1 else ''}{self._median / time_scale:.2f} {time_unit}
  {iqr_filter}IQR:    {self.iqr / time_scale:.2f} {time_unit} ({self._p25 / time_scale:.2f} to {self._p75 / time_scale:.2f})
  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs {'per measurement,' if n > 1 else ','} {self.num_threads} thread{'s' if self.num_threads > 1 else ''}
{newline.join(self._warnings)}""".strip()  # noqa: E501  (one line of the repr each)
        return "\n".join(line for line in repr_str.splitlines(keepends=False)
                         if skip_line not in line)

    @staticmethod
    def merge(measurements: Iterable[Measurement]) -> list[Measurement]:
        """Merge replicates (same TaskSpec) into one Measurement each, with
        ``number_per_run=1`` (times per run) and no metadata."""
        grouped: collections.defaultdict[TaskSpec, list[Measurement]] = \
            collections.defaultdict(list)
        for m in measurements:
            grouped[m.task_spec].append(m)

        def merge_group(task_spec: TaskSpec, group: list[Measurement]) -> Measurement:
            times: list[float] = []
            for m in group:
                times.extend(m.times)  # number_per_run may differ: times are per run
            return Measurement(number_per_run=1, raw_times=times, task_spec=task_spec,
                               metadata=None)

        return [merge_group(t, g) for t, g in grouped.items()]


def select_unit(t: float) -> tuple[str, float]:
    """The unit to show ``t`` seconds in (``"ns"``, ``"us"``, ``"ms"`` or ``"s"``) and its
    scale, so the number has 1 to 3 digits before the point."""
    time_unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(_log10_f32(t) // 3), "s")
    time_scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[time_unit]
    return time_unit, time_scale


def unit_to_english(u: str) -> str:
    """``"us"`` -> ``"microsecond"`` and so on."""
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[u]


def trim_sigfig(x: float, n: int) -> float:
    """Trim ``x`` to ``n`` significant figures (3.14159, 2 -> 3.1), in float32 as torch."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    magnitude = int(np.ceil(np.log10(np.abs(np.float32(x)))))
    scale = 10 ** (magnitude - n)
    return float(np.round(np.float32(x / scale)) * np.float32(scale))


def ordered_unique(elements: Iterable[Any]) -> list[Any]:
    """The distinct elements, in first-seen order."""
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n: int) -> Iterator[None]:
    """Within the block, NumPy's BLAS uses ``n`` threads (threadpoolctl, when installed)
    and ``ember.get_num_threads()`` says ``n``; both are restored after."""
    from ... import _compat

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limiter = contextlib.nullcontext()
    else:
        limiter = threadpool_limits(limits=int(n), user_api="blas")
    prior = _compat._threads["intra"]
    with limiter:
        _compat._threads["intra"] = int(n)
        try:
            yield
        finally:
            _compat._threads["intra"] = prior
