"""The module-level state of ``lodestar``: the current run and its shortcuts.

This is the one deliberate piece of global state, shaped like the API ML
engineers know: ``lodestar.run``, ``lodestar.config`` and ``lodestar.summary``
follow the current run, and ``lodestar.log`` / ``finish`` / ``define_metric``
act on it. Everything else takes a `Run` explicitly.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from . import settings as settings_module
from ._run import Run
from ._summary import MetricDefinition
from .errors import LodestarWarning, UsageError
from .hooks import ProcessHooks
from .startup import InitArgs, start_run

_current: Run | None = None


def _active() -> Run | None:
    """The current run, unless it finished or belongs to a parent process."""
    run = _current
    if run is None or run._finished or run._pid != os.getpid():
        return None
    return run


def _after_fork_in_child() -> None:
    if _current is not None:
        _current._after_fork_in_child()


_hooks = ProcessHooks(_active, _after_fork_in_child)


def init(
    project: str | None = None,
    entity: str | None = None,
    name: str | None = None,
    config: Any = None,
    group: str | None = None,
    job_type: str | None = None,
    tags: Any = None,
    notes: str | None = None,
    id: str | None = None,
    resume: Any = None,
    reinit: bool | None = None,
    mode: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    settings: Any = None,
    resume_from: str | None = None,
    fork_from: str | None = None,
) -> Run:
    """Start a run and make it the current one.

    A run that is still active is returned as it is, unless ``reinit=True``,
    which finishes it first. ``resume_from="<run_id>?_step=N"`` rewinds that
    run to step N and ``fork_from="<run_id>?_step=N"`` starts a new run that
    shares its history up to N (see `lodestar.rewind`).

    Raises:
        UsageError: an argument or setting is wrong.
        AuthError: online, with no API key for the platform.
        RunError: the platform refused the resume.
    """
    global _current
    _hooks.install()
    active = _active()
    if active is not None:
        if not reinit:
            _warn(f"run {active.id} is still active; init() returns it (pass "
                  "reinit=True or call finish() first to start another)")
            return active
        active.finish()
    args = InitArgs(project, entity, name, config, group, job_type, tags, notes,
                    id, resume, mode, dir, settings, resume_from, fork_from)
    run = start_run(args)
    run._on_finish = _forget
    _current = run
    return run


def _forget(run: Run) -> None:
    global _current
    if _current is run:
        _current = None


def log(data: Any, step: int | None = None, commit: bool = True) -> None:
    """Log to the current run; see `Run.log`."""
    _require("log").log(data, step=step, commit=commit)


def alert(
    title: str, text: str = "", level: Any = "INFO", wait_duration: Any = None
) -> None:
    """Send an alert from the current run; see `Run.alert`."""
    _require("alert").alert(title, text, level=level, wait_duration=wait_duration)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish the current run, if there is one."""
    run = _active()
    if run is not None:
        run.finish(exit_code=exit_code, quiet=quiet)


def define_metric(
    name: str, step_metric: str | None = None, summary: str | None = None
) -> MetricDefinition:
    """Define a metric of the current run; see `Run.define_metric`."""
    return _require("define_metric").define_metric(name, step_metric, summary)


def log_artifact(
    artifact: Any, name: str | None = None, type: str | None = None,
    aliases: list[str] | None = None,
) -> Any:
    """Log an artifact from the current run; see `Run.log_artifact`."""
    return _require("log_artifact").log_artifact(artifact, name, type, aliases)


def use_artifact(artifact: Any, type: str | None = None) -> Any:
    """Use an artifact in the current run; see `Run.use_artifact`."""
    return _require("use_artifact").use_artifact(artifact, type)


def save(glob_str: Any, base_path: str | None = None, policy: str = "live") -> Any:
    """Upload files of the current run; see `Run.save`."""
    return _require("save").save(glob_str, base_path, policy)


def restore(
    name: str, run_path: str | None = None, replace: bool = False,
    root: str | None = None,
) -> Any:
    """Download a run's file; see `lodestar.run_files.restore`."""
    from .run_files import restore as restore_file

    return restore_file(name, run_path, replace, root, _active())


def login(
    key: str | None = None, host: str | None = None, relogin: bool = False
) -> bool:
    """Store `key` for `host` in ``~/.netrc``; say whether a key is known.

    Nothing is sent anywhere: the key is checked when a run connects.
    """
    current = settings_module.load_settings(base_url=host)
    if key:
        if relogin or current.api_key != key:
            settings_module.store_netrc_key(current.base_url, key)
        return True
    return current.api_key is not None


def module_attribute(name: str) -> Any:
    """``lodestar.run``, ``lodestar.config`` and ``lodestar.summary``."""
    run = _active()
    if name == "run":
        return run
    if run is None:
        return _Preinit(name)
    return getattr(run, name)


def _require(what: str) -> Run:
    run = _current
    if run is None:
        raise UsageError(f"call lodestar.init() before lodestar.{what}()")
    return run


def _warn(message: str) -> None:
    warnings.warn(message, LodestarWarning, stacklevel=3)


class _Preinit:
    """``lodestar.config`` or ``summary`` before ``init()``: every use says so."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise UsageError(f"call lodestar.init() before using lodestar.{self._name}")

    __getitem__ = __setitem__ = __delitem__ = __contains__ = _fail
    __iter__ = __len__ = _fail

    def __getattr__(self, name: str) -> Any:
        self._fail()

    def __setattr__(self, name: str, value: Any) -> None:
        self._fail()

    def __repr__(self) -> str:
        return f"<lodestar.{self._name} before init()>"
