"""The profiler: which ops and backward nodes ran, for how long, and what they allocated.

``ember.profiler`` is ``torch.profiler`` for the CPU: ``profile`` (a context manager, or
``start``/``step``/``stop`` with a ``schedule``), ``record_function`` labels,
``key_averages().table()`` and ``export_chrome_trace``. Events carry torch's names:

- each op's forward is ``aten::<op>`` (``aten::linear``, ``aten::relu``, ``aten::mul``):
  the op class's name in snake_case, or torch's name where ember's class is spelled
  differently (``CrossEntropy`` is ``aten::cross_entropy_loss``); a user's
  ``autograd.Function`` is its class name;
- each backward node is ``autograd::engine::evaluate_function: AddmmBackward0`` around
  ``AddmmBackward0``, and a leaf's ``torch::autograd::AccumulateGrad``.

Where ember's op is a single node and torch's a composition, torch lists the parts where
ember lists one op (``aten::cross_entropy_loss``); ``aten::linear`` holds ``aten::t`` and
``aten::addmm`` in both.

Profiling costs nothing when it is off: nothing in ember checks for it. While a profiler
records, wrappers stand in for ``Op.apply``, ``Function.apply`` and the ops' ``backward``
(see ``ember/profiler/_record.py``); the originals are back when it stops, even when the
profiled block raised.

Not provided: device activities (``ProfilerActivity.CUDA`` is accepted and, as torch does
without CUDA, warned about and dropped), FLOP counts (``with_flops``), memory timelines,
``emit_nvtx``/``emit_itt``, and the execution-trace observer.
"""
from __future__ import annotations

import enum
import os
import warnings
from functools import partial
from typing import TYPE_CHECKING

from ._autograd import profile as _AutogradProfile
from ._events import DeviceType, EventList, FunctionEvent, FunctionEventAvg  # noqa: F401
from ._record import record_function

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "record_function", "schedule",
           "supported_activities", "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    """What to profile. Only ``CPU`` is recorded; the device ones are accepted and dropped
    with torch's warning for a machine without that device."""

    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What a ``schedule`` tells the profiler to do at a step (torch's values).

    ``NONE``: nothing; ``WARMUP``: get ready, record nothing yet; ``RECORD``: record;
    ``RECORD_AND_SAVE``: record, and hand the result to ``on_trace_ready`` when the step
    ends. ``DEVICE_STOPPED`` is torch's internal state; a schedule must not return it.
    """

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def supported_activities():
    """The activities ember can record: ``{ProfilerActivity.CPU}``."""
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable:
    """A step -> ``ProfilerAction`` function for ``profile(schedule=...)`` (torch's).

    After ``skip_first`` steps, each cycle waits ``wait`` steps, warms up for ``warmup``,
    then records ``active`` steps, the last of them ``RECORD_AND_SAVE``; ``repeat`` cycles
    (0: for as long as the profiler runs). ``skip_first_wait`` skips the first cycle's wait.

    Raises:
        AssertionError: torch's error for a negative count or ``active <= 0``.
    """

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return (ProfilerAction.RECORD if mod_step < num_steps - 1
                else ProfilerAction.RECORD_AND_SAVE)

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    return schedule_fn


def _default_schedule_fn(_: int) -> ProfilerAction:
    """Without a schedule: record every step."""
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False, use_python_export: bool = False):
    """An ``on_trace_ready`` handler that writes each trace into ``dir_name`` as
    ``{worker_name}.{time_ns}.pt.trace.json`` (``.gz`` with ``use_gzip``), the files
    TensorBoard's profiler plugin reads (the plugin itself is not part of ember)."""
    import socket
    import time

    def handler_fn(prof) -> None:
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        if use_gzip:
            file_name += ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, file_name))

    return handler_fn


_warned = set()


def _warn_once(message):
    """torch warns about this once per process."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, stacklevel=5)  # the caller of step()


def _parse_activities(activities):
    parsed = set()
    for item in activities:
        keys = item.keys() if isinstance(item, dict) else (item,)
        for key in keys:
            if not isinstance(key, ProfilerActivity):
                raise TypeError(f"Expected ProfilerActivity or dict, got {type(key)}")
            if key in parsed:
                raise ValueError(f"Activity {key} specified more than once")
            parsed.add(key)
    return parsed


class profile:  # noqa: N801  (torch's name)
    """Profiler context manager (torch's ``torch.profiler.profile``, CPU activity).

    Args:
        activities: ``ProfilerActivity`` values (default: ``supported_activities()``);
            a device activity is warned about and dropped, as torch does without one.
        schedule: step -> ``ProfilerAction`` (see ``schedule``); default: record throughout.
        on_trace_ready: called with this profiler when a ``RECORD_AND_SAVE`` step ends, and
            at ``stop()`` while recording.
        record_shapes: record each op's input shapes.
        profile_memory: record the bytes each op's outputs allocate (allocations only).
        with_stack: record the Python stack of each op.
        with_flops: not supported (``NotImplementedError``).
        with_modules: accepted, records nothing more (as torch's eager mode).
        acc_events: keep the events of every recording cycle, not only the last one.
        use_cuda: deprecated in torch; True adds the CUDA activity (then dropped).

    With a schedule, call ``prof.step()`` at the end of each step; each recorded step is
    labelled ``ProfilerStep#<n>`` (one ``ProfilerStep*`` row in the table).

    Example::

        with ember.profiler.profile(record_shapes=True) as prof:
            with ember.profiler.record_function("step"):
                model(x).sum().backward()
        print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
        prof.export_chrome_trace("trace.json")
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, with_modules: bool = False,
                 experimental_config=None, execution_trace_observer=None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        for name, value in (("with_flops", with_flops),
                            ("experimental_config", experimental_config),
                            ("execution_trace_observer", execution_trace_observer),
                            ("custom_trace_id_callback", custom_trace_id_callback)):
            if value:
                raise NotImplementedError(f"ember's profiler does not support {name}")
        self.activities = (_parse_activities(activities) if activities is not None
                           else supported_activities())
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead",
                          FutureWarning, stacklevel=2)
            if use_cuda:
                self.activities.add(ProfilerActivity.CUDA)
            else:
                self.activities.discard(ProfilerActivity.CUDA)
        if len(self.activities) == 0:
            raise AssertionError("No valid profiler activities found")
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = False
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.post_processing_timeout_s = post_processing_timeout_s
        self.use_device = None
        for device in (ProfilerActivity.CUDA, ProfilerActivity.XPU, ProfilerActivity.MTIA,
                       ProfilerActivity.HPU):
            if device in self.activities:
                self.use_device = device.name.lower()
                break
        self.profiler: _AutogradProfile | None = None
        self._trace_metadata: dict = {}
        self.preset_metadata: dict = {}
        if schedule:
            self.schedule = schedule
            self.record_steps = True  # steps are labelled in the trace and the table
        else:
            self.schedule = _default_schedule_fn
            self.record_steps = False
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.step_rec_fn: record_function | None = None
        self.current_action = self._checked(self.schedule(self.step_num))
        a = ProfilerAction
        warn = partial(warnings.warn, stacklevel=3)
        # (previous action, current action) -> what to do, as torch's table
        self.action_map = {
            (a.NONE, a.NONE): [],
            (a.NONE, a.WARMUP): [self.prepare_trace],
            (a.NONE, a.RECORD): [self.prepare_trace, self.start_trace],
            (a.NONE, a.RECORD_AND_SAVE): [self.prepare_trace, self.start_trace],
            (a.WARMUP, a.NONE): [partial(warn, "Incorrect schedule: WARMUP followed by NONE"),
                                 self.start_trace, self.stop_trace],
            (a.WARMUP, a.WARMUP): [],
            (a.WARMUP, a.RECORD): [self.start_trace],
            (a.WARMUP, a.RECORD_AND_SAVE): [self.start_trace],
            (a.RECORD, a.NONE): [partial(warn, "Incorrect schedule: RECORD followed by NONE"),
                                 self.stop_trace],
            (a.RECORD, a.WARMUP): [partial(warn, "Incorrect schedule: RECORD followed by "
                                                 "WARMUP"), self.stop_trace],
            (a.RECORD, a.RECORD): [],
            (a.RECORD, a.RECORD_AND_SAVE): [],
            (a.RECORD_AND_SAVE, a.NONE): [self.stop_trace, self._trace_ready],
            (a.RECORD_AND_SAVE, a.WARMUP): [self.stop_trace, self._trace_ready,
                                            self.prepare_trace],
            (a.RECORD_AND_SAVE, a.RECORD): [self.stop_trace, self._trace_ready,
                                            self.prepare_trace, self.start_trace],
            (a.RECORD_AND_SAVE, a.RECORD_AND_SAVE): [self.stop_trace, self._trace_ready,
                                                     self.prepare_trace, self.start_trace],
            (a.WARMUP, None): [self.start_trace, self.stop_trace],
            (a.RECORD, None): [self.stop_trace, self._trace_ready],
            (a.RECORD_AND_SAVE, None): [self.stop_trace, self._trace_ready],
        }

    @staticmethod
    def _checked(action):
        if action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler "
                             "and must not be returned by a user-provided schedule")
        return action

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()

    def start(self) -> None:
        """Begin: take the schedule's action for step 0 (recording, without a schedule)."""
        self._transit_action(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def stop(self) -> None:
        """End: stop recording (the wrappers come out) and hand over the last trace."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit_action(self.current_action, None)

    def step(self) -> None:
        """Signal that the next step begins: act on the schedule's action for it."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev_action = self.current_action
        action = self._checked(self.schedule(self.step_num + 1))
        self.step_num += 1
        self.current_action = action
        self._transit_action(prev_action, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def _transit_action(self, prev_action, current_action) -> None:
        for action in self.action_map.get((prev_action, current_action)) or ():
            action()

    def _trace_ready(self) -> None:
        if self.on_trace_ready:
            self.on_trace_ready(self)

    # --- torch's _KinetoProfile: one recording window ---------------------------------------
    def prepare_trace(self) -> None:
        """Make the window's recorder (a fresh one each cycle, unless ``acc_events``)."""
        if self.profiler is not None and self.profiler._recording:
            self.profiler.__exit__(None, None, None)  # start() twice: never leave one running
        if self.profiler is not None and not self.acc_events:
            _warn_once("Warning: Profiler clears events at the end of each cycle. Only "
                       "events from the current cycle will be reported. To keep events "
                       "across cycles, set acc_events=True.")
        if self.profiler is None or not self.acc_events:
            with warnings.catch_warnings():
                if self.profiler is not None:  # torch warns about the device once
                    warnings.simplefilter("ignore")
                self.profiler = _AutogradProfile(
                    use_cpu=ProfilerActivity.CPU in self.activities,
                    use_device=self.use_device, record_shapes=self.record_shapes,
                    profile_memory=self.profile_memory, with_stack=self.with_stack,
                    with_modules=self.with_modules, use_kineto=True,
                    acc_events=self.acc_events,
                    post_processing_timeout_s=self.post_processing_timeout_s)
        self.profiler._prepare_trace()

    def start_trace(self) -> None:
        """Start recording."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before starting trace")
        self.profiler._start_trace()
        for flag in ("profile_memory", "with_stack", "record_shapes", "with_modules"):
            if getattr(self, flag):
                self._trace_metadata[flag] = 1
        self._trace_metadata.update(self.preset_metadata)

    def stop_trace(self) -> None:
        """Stop recording (the wrappers come out with the last active profiler)."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before stopping trace")
        self.profiler.__exit__(None, None, None)

    def export_chrome_trace(self, path: str, use_python_export: bool = False):
        """Write the last window's events as a Chrome trace JSON (Kineto's layout),
        atomically: a temporary file, then a rename. A ``.gz`` path is gzipped."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before exporting chrome trace")
        return self.profiler.export_chrome_trace(path, self._trace_metadata)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total"):
        """Write flame-graph stacks of the events (needs ``with_stack=True``)."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before exporting stacks")
        return self.profiler.export_stacks(path, metric)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """Sums per event name (and, optionally, input shapes and top stack entries).

        Returns:
            An ``EventList`` of ``FunctionEventAvg``: ``key``, ``count``,
            ``cpu_time_total``, ``self_cpu_time_total``, ``cpu_time``, ``input_shapes``,
            ``cpu_memory_usage``, ``self_cpu_memory_usage``; ``.table()`` prints them.
        """
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before getting key averages")
        return self.profiler.key_averages(group_by_input_shape, group_by_stack_n,
                                          group_by_overload_name)

    def events(self) -> EventList:
        """The last window's events (``FunctionEvent``), in start order."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before accessing events")
        return self.profiler.function_events

    def add_metadata(self, key: str, value: str) -> None:
        """Add a string entry to the Chrome trace's top level."""
        self._trace_metadata[key] = value

    def add_metadata_json(self, key: str, value: str) -> None:
        """Add a JSON value (given as text) to the Chrome trace's top level."""
        import json

        self._trace_metadata[key] = json.loads(value)

    def preset_metadata_json(self, key: str, value: str) -> None:
        """Like ``add_metadata_json``, for every window this profiler records from now on."""
        import json

        self.preset_metadata[key] = json.loads(value)
