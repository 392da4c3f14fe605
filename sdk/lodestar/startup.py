"""What ``lodestar.init()`` does: turn its arguments into a started `Run`.

In order: settle the settings and the mode; decide the run id and how it
resumes; build the config (``config-defaults.yaml``, then ``init(config=)``);
make the run directory, the metadata file and the WAL with its `RunStart`;
start the writer thread and, online, the agent; and, for a resume, wait a
bounded time for the platform's answer (where the run continues, its stored
config and summary).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from . import footprint, metadata, recording, rewind, run_dir, run_files
from ._config import Config, load_defaults, load_yaml, to_mapping
from ._proto import events_pb2
from ._run import Run, RunInfo
from ._summary import Summary
from ._version import __version__
from .agent_status import AgentStatus, read_status
from .errors import AuthError, LodestarWarning, RunError, UsageError
from .settings import Settings, load_settings
from .supervisor import AgentSupervisor
from .util import generate_id
from .wal import WalWriter
from .writer import CONFIG, STOP, RunWriter

logger = logging.getLogger(__name__)

DEFAULT_PROJECT = "uncategorized"
MAX_NAME = 128
_RESUME_MODES = {
    "allow": events_pb2.RESUME_ALLOW,
    "must": events_pb2.RESUME_MUST,
    "never": events_pb2.RESUME_NEVER,
}
_RESUME_WAIT_POLL = 0.05
# A new run waits this long for the platform's first answer, so a refused
# key or entity is an error from init() rather than a line in agent.log; a
# platform that does not answer in time only delays the upload.
NEW_RUN_WAIT_S = 3.0
# The agent exits on its own right after a refusal.
AGENT_EXIT_WAIT_S = 5.0


@dataclass(frozen=True)
class InitArgs:
    """The arguments of ``lodestar.init()``, as given."""

    project: str | None = None
    entity: str | None = None
    name: str | None = None
    config: Any = None
    group: str | None = None
    job_type: str | None = None
    tags: Any = None
    notes: str | None = None
    id: str | None = None
    resume: Any = None
    mode: str | None = None
    dir: str | os.PathLike[str] | None = None
    settings: Any = None
    resume_from: str | None = None
    fork_from: str | None = None


@dataclass(frozen=True)
class ResumePlan:
    run_id: str
    mode: int
    previous: events_pb2.WalHeader | None = None
    rewind: str = ""                 # RunStart.resume_from
    fork: str = ""                   # RunStart.fork_from
    start_step: int | None = None    # where a rewind or fork goes on


def start_run(args: InitArgs) -> Run:
    """A started run for the arguments of ``init()``.

    Raises:
        UsageError: an argument or setting is wrong.
        AuthError: online, with no API key for the platform.
        RunError: the platform refused a resume (``resume="must"`` and an
            unknown run, for example).
    """
    settings = resolve_settings(args)
    config = build_config(args.config)
    if settings.mode == "disabled":
        return _disabled_run(args, settings, config)
    env = _agent_env(settings) if settings.mode == "online" else {}
    root = run_dir.runs_root(settings.dir)
    plan = plan_resume(args.resume, args.id or settings.run_id, root, settings)
    plan = rewind.apply(plan, args.resume_from, args.fork_from, args.id)
    info = _run_info(args, settings, plan, root)
    return _start(info, plan, config, env)


def resolve_settings(args: InitArgs) -> Settings:
    overrides: dict[str, Any] = {
        "mode": args.mode,
        "dir": str(args.dir) if args.dir is not None else None,
    }
    given = args.settings
    if isinstance(given, Settings):
        changes = {k: v for k, v in overrides.items() if v is not None}
        return given.replace(**changes)
    if given is not None and not isinstance(given, Mapping):
        raise UsageError("settings= takes a dict of setting names or a Settings")
    try:
        return load_settings(**{**dict(given or {}), **overrides})
    except TypeError as exc:
        raise UsageError(f"unknown setting in settings=: {exc}") from exc


def build_config(given: Any) -> Config:
    """The initial config: defaults file, then `given` (which wins)."""
    config = Config()
    config.update(load_defaults(Path.cwd()), allow_val_change=True)
    if isinstance(given, (str, os.PathLike)):
        given = load_yaml(os.fspath(given))
    config.update(to_mapping(given), allow_val_change=True)
    config.push()  # RunStart carries all of it: nothing is left to send
    return config


def plan_resume(
    resume: Any, run_id: str | None, root: Path, settings: Settings
) -> ResumePlan:
    """The run id and resume mode for `resume` and `run_id`."""
    text = _resume_text(resume if resume is not None else settings.resume)
    if run_id is not None:
        _check_name("run id", run_id)
    if text == "auto":
        previous = run_dir.unfinished_latest(root)
        if previous is not None and run_id in (None, previous.run_id):
            return ResumePlan(previous.run_id, events_pb2.RESUME_ALLOW, previous)
        if run_id is None:
            return ResumePlan(generate_id(), events_pb2.RESUME_NEVER)
        return ResumePlan(run_id, events_pb2.RESUME_ALLOW)
    if text == "must" and run_id is None:
        raise UsageError("resume='must' needs the run: pass id= or set LODESTAR_RUN_ID")
    return ResumePlan(run_id or generate_id(), _RESUME_MODES[text])


def _resume_text(resume: Any) -> str:
    if resume is True:
        return "auto"
    if resume is None or resume is False:
        return "never"
    text = str(resume).strip().lower()
    aliases = {"true": "auto", "auto": "auto", "false": "never", "": "never"}
    text = aliases.get(text, text)
    if text not in _RESUME_MODES and text != "auto":
        raise UsageError(
            f"resume={resume!r} is not understood; use 'allow', 'must', 'never' or True"
        )
    return text


def _check_name(kind: str, value: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{kind} must be a string, not {type(value).__name__} "
                         f"{value!r}")
    if not 0 < len(value) <= MAX_NAME:
        raise UsageError(f"{kind} {value!r} must be 1 to {MAX_NAME} characters")
    if any(ord(c) < 32 or c in "/\\" for c in value):
        raise UsageError(
            f"{kind} {value!r} must not hold '/', '\\' or control characters"
        )
    if value in (".", ".."):
        raise UsageError(f"{kind} {value!r} is a path step, not a name; pick another")
    return value


def _run_info(
    args: InitArgs, settings: Settings, plan: ResumePlan, root: Path
) -> RunInfo:
    previous = plan.previous
    project = args.project or settings.project or (previous and previous.project)
    entity = args.entity or settings.entity or (previous and previous.entity) or ""
    project = _check_name("project", project or DEFAULT_PROJECT)
    started_at = time.time()
    paths = run_dir.create(root, plan.run_id, settings.mode == "offline", started_at)
    return RunInfo(
        id=plan.run_id,
        project=project,
        entity=entity,
        name=args.name or settings.name or "",
        group=args.group or settings.run_group or "",
        job_type=args.job_type or settings.job_type or "",
        tags=_tags(args.tags if args.tags is not None else _env_tags(settings)),
        notes=args.notes or settings.notes or "",
        mode=settings.mode,
        paths=paths,
        settings=settings,
        started_at=started_at,
    )


def _tags(tags: Any) -> tuple[str, ...]:
    if tags is None:
        return ()
    if isinstance(tags, str):
        return (tags,)
    return tuple(str(tag) for tag in tags)


def _env_tags(settings: Settings) -> list[str] | None:
    if not settings.tags:
        return None
    return [tag.strip() for tag in settings.tags.split(",") if tag.strip()]


def _disabled_run(args: InitArgs, settings: Settings, config: Config) -> Run:
    info = RunInfo(
        id=args.id or settings.run_id or generate_id(),
        project=args.project or settings.project or DEFAULT_PROJECT,
        entity=args.entity or settings.entity or "",
        name=args.name or "",
        tags=_tags(args.tags),
        mode="disabled",
        settings=settings,
        started_at=time.time(),
    )
    return Run(info, config, Summary())


def _start(
    info: RunInfo, plan: ResumePlan, config: Config, env: dict[str, str]
) -> Run:
    paths = info.paths
    assert paths is not None
    online = info.mode == "online"
    meta = metadata.collect(info.started_at, git=not info.settings.disable_git)
    paths.metadata_json.write_text(json.dumps(meta, indent=2, default=str))
    if online:
        paths.platform_url.write_text(info.settings.base_url)
    wal = _open_wal(info, plan, config, meta)
    summary = Summary()
    writer = RunWriter(wal, 1, summary, paths, config=config.as_dict())
    if online:
        writer.supervisor = AgentSupervisor(paths, env, writer.warn)
        writer.supervisor.start()
    writer.mute("agent-error", online)  # a refusal then surfaces as RunError
    writer.start()
    log_handler = _attach_log_file(paths)
    try:
        info, start_step = _settle_resume(info, plan, config, summary, writer)
    except RunError:
        _stop_writer(writer, log_handler)
        _discard_refused(writer, paths)
        raise
    except BaseException:
        _stop_writer(writer, log_handler)
        raise
    writer.mute("agent-error", False)
    run = Run(info, config, summary, writer, start_step)
    run._log_handler = log_handler
    _connect(run, config, summary)
    footprint.after_init(info.settings.dir, paths.path, env,
                         info.settings.max_local_gb, _cache_dir())
    recording.start_recording(run, writer, info.settings)
    run_files.attach(run, writer, info.settings)
    logger.info("run %s started in %s", info.id, paths.path)
    return run


def _discard_refused(writer: RunWriter, paths: run_dir.RunPaths) -> None:
    """Remove a refused run's folder: it holds nothing the script logged, and
    left behind, ``lodestar sync`` would send it only to be refused again."""
    if writer.supervisor is not None:
        writer.supervisor.wait_exit(AGENT_EXIT_WAIT_S)
    try:
        shutil.rmtree(paths.path)
    except OSError as exc:
        logger.warning("could not remove the refused run's folder %s: %s",
                       paths.path, exc)


def _cache_dir() -> Path:
    """The artifact download cache (``LODESTAR_CACHE_DIR``)."""
    base = os.environ.get("LODESTAR_CACHE_DIR")
    return Path(base) if base else Path.home() / ".cache" / "lodestar"


def _agent_env(settings: Settings) -> dict[str, str]:
    if not settings.api_key:
        raise AuthError(
            f"no API key for {settings.base_url}: run `lodestar login`, set "
            "LODESTAR_API_KEY, or pass mode='offline' and sync later"
        )
    env = dict(os.environ)
    env["LODESTAR_BASE_URL"] = settings.base_url
    env["LODESTAR_API_KEY"] = settings.api_key
    return env


def _open_wal(
    info: RunInfo, plan: ResumePlan, config: Config, meta: dict[str, Any]
) -> WalWriter:
    assert info.paths is not None
    header = events_pb2.WalHeader(
        wal_id=uuid.uuid4().hex,
        entity=info.entity,
        project=info.project,
        run_id=info.id,
        created_at=info.started_at,
        sdk_version=__version__,
    )
    start = events_pb2.RunStart(
        resume=cast(Any, plan.mode),
        name=info.name,
        group=info.group,
        job_type=info.job_type,
        tags=info.tags,
        notes=info.notes,
        config_json=json.dumps(config.as_dict()),
        metadata_json=json.dumps(meta, default=str),
        resume_from=plan.rewind,
        fork_from=plan.fork,
    )
    wal = WalWriter(info.paths.wal, header)
    wal.append([events_pb2.Event(seq=1, timestamp=info.started_at, run_start=start)])
    return wal


def _settle_resume(
    info: RunInfo, plan: ResumePlan, config: Config, summary: Summary,
    writer: RunWriter,
) -> tuple[RunInfo, int]:
    assert info.paths is not None
    if plan.mode == events_pb2.RESUME_NEVER:
        return _settle_new(info, plan)
    if info.mode == "offline":
        if plan.start_step is not None:
            return info, plan.start_step
        return info, run_dir.local_next_step(info.paths.path.parent, info.id)
    status = _wait_for_answer(info)
    if status.error:
        raise RunError(status.error.get("code", ""), status.error.get("message", ""))
    if status.opened is None:
        _warn_no_answer(info)
        return info, run_dir.local_next_step(info.paths.path.parent, info.id)
    return _apply_opened(info, status.opened, config, summary)


def _settle_new(info: RunInfo, plan: ResumePlan) -> tuple[RunInfo, int]:
    if info.mode != "online":
        return info, plan.start_step or 0
    status = _wait_for_answer(info, min(NEW_RUN_WAIT_S, info.settings.init_timeout))
    if status.error:
        raise RunError(status.error.get("code", ""), status.error.get("message", ""))
    if status.opened is not None:
        entity = status.opened.get("entity") or info.entity
        info = _replace(info, entity=entity, url=status.opened.get("run_url", ""))
    return info, plan.start_step or 0


def _wait_for_answer(info: RunInfo, timeout: float | None = None) -> AgentStatus:
    assert info.paths is not None
    wait = info.settings.init_timeout if timeout is None else timeout
    deadline = time.monotonic() + wait
    while True:
        status = read_status(info.paths.path)
        if status.opened is not None or status.error or time.monotonic() >= deadline:
            return status
        time.sleep(_RESUME_WAIT_POLL)


def _warn_no_answer(info: RunInfo) -> None:
    import warnings

    warnings.warn(
        f"the platform did not answer within {info.settings.init_timeout:g}s "
        f"whether run {info.id} exists; steps continue from what this machine "
        "knows (set LODESTAR_INIT_TIMEOUT to wait longer)",
        LodestarWarning,
        stacklevel=4,
    )


def _apply_opened(
    info: RunInfo, opened: dict[str, Any], config: Config, summary: Summary
) -> tuple[RunInfo, int]:
    config._load_stored(_json_object(opened.get("config_json")))
    stored_summary = _json_object(opened.get("summary_json"))
    summary._load_stored(stored_summary)
    resumed = bool(opened.get("resumed", False))
    runtime = stored_summary.get("_runtime")
    info = _replace(
        info,
        entity=opened.get("entity") or info.entity,
        resumed=resumed,
        url=opened.get("run_url", ""),
        runtime_before=runtime if resumed and _is_number(runtime) else 0.0,
    )
    return info, int(opened.get("next_step", 0) or 0)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value >= 0


def _json_object(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _replace(info: RunInfo, **changes: Any) -> RunInfo:
    import dataclasses

    return dataclasses.replace(info, **changes)


def _connect(run: Run, config: Config, summary: Summary) -> None:
    def send_config(changed: dict[str, Any], removed: list[str]) -> None:
        run._put((CONFIG, changed, removed))

    config._sink = send_config
    summary._sync = lambda: run._flush(to_disk=False)


def _attach_log_file(paths: run_dir.RunPaths) -> logging.Handler:
    handler = logging.FileHandler(paths.debug_log, delay=True)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.getLogger("lodestar").addHandler(handler)
    return handler


def _stop_writer(writer: RunWriter, handler: logging.Handler) -> None:
    writer.queue.append((STOP,))
    writer.join(5.0)
    logging.getLogger("lodestar").removeHandler(handler)
    handler.close()
