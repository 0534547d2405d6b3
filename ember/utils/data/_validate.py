"""The DataLoader's up-front option checks, with torch's messages, so that a mistake fails
at construction rather than in the first epoch."""
from __future__ import annotations

import multiprocessing


def _check_worker_options(num_workers: int, timeout: float, prefetch_factor: int | None,
                          persistent_workers: bool) -> int | None:
    """Check the worker options; return ``prefetch_factor`` (2 by default with workers)."""
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; "
                         "use num_workers=0 to disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in "
                         "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                         "otherwise set prefetch_factor to None.")
    elif num_workers > 0 and prefetch_factor is None:
        prefetch_factor = 2
    elif prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    return prefetch_factor


def _check_sampling_options(iterable: bool, shuffle, sampler, batch_sampler, batch_size,
                            drop_last: bool) -> None:
    """Reject the combinations of sampling options that torch rejects, in torch's order."""
    if iterable:
        if shuffle not in {False, None}:
            raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                             f"option, but got shuffle={shuffle}")
        if sampler is not None:
            raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                             f"option, but got sampler={sampler}")
        elif batch_sampler is not None:
            raise ValueError("DataLoader with IterableDataset: expected unspecified "
                             f"batch_sampler option, but got batch_sampler={batch_sampler}")
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
    elif batch_size is None and drop_last:
        raise ValueError("batch_size=None option disables auto-batching and is "
                         "mutually exclusive with drop_last")


def _resolve_mp_context(multiprocessing_context, num_workers: int):
    """A start method name becomes its context; anything else must already be one."""
    if multiprocessing_context is None:
        return None
    if num_workers <= 0:
        raise ValueError(
            "multiprocessing_context can only be used with multi-process loading "
            f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(multiprocessing_context, str):
        valid_start_methods = multiprocessing.get_all_start_methods()
        if multiprocessing_context not in valid_start_methods:
            raise ValueError(
                "multiprocessing_context option should specify a valid start "
                f"method in {valid_start_methods!r}, but got "
                f"multiprocessing_context={multiprocessing_context!r}")
        multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
    if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
        raise TypeError(
            "multiprocessing_context option should be a valid context object or a "
            "string specifying the start method, but got "
            f"multiprocessing_context={multiprocessing_context}")
    return multiprocessing_context


def _pickle_check(obj, what: str, method: str) -> None:
    """Fail now, naming ``what``, if ``obj`` cannot be sent to a spawn/forkserver worker."""

    class _Sink:
        def write(self, b):
            return len(b)

    from multiprocessing.reduction import ForkingPickler

    try:
        # Protocol 5 with a buffer callback: large arrays are not even serialised.
        ForkingPickler(_Sink(), 5, True, lambda buf: None).dump(obj)
    except Exception as e:
        name = getattr(obj, "__qualname__", None) or f"{type(obj).__qualname__} object"
        raise TypeError(
            f"DataLoader: the {what} ({name}) cannot be pickled, but with the '{method}' "
            f"start method every worker process receives the {what} by pickling it: "
            f"{type(e).__name__}: {e}. Define it at module level (not inside a function, "
            "and not a lambda), keep unpicklable state (open files, locks, generators) out "
            "of it or create that state lazily in the worker, or use "
            "multiprocessing_context='fork' where the platform has it.") from e
