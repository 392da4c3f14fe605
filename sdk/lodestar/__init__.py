"""Lodestar: track machine-learning experiments.

    import lodestar

    with lodestar.init(project="mnist", config={"lr": 0.01}) as run:
        for step in range(100):
            run.log({"loss": 1 / (step + 1)})

``lodestar.run``, ``lodestar.config`` and ``lodestar.summary`` follow the
current run; `Api` (imported on first use) reads runs back from the platform.
"""

from . import plot, util
from ._alerts import AlertLevel
from ._config import Config
from ._run import Run
from ._state import (
    alert,
    define_metric,
    finish,
    init,
    log,
    log_artifact,
    login,
    restore,
    save,
    use_artifact,
)
from ._summary import Summary
from ._version import __version__
from .artifacts import Artifact
from .errors import (
    ApiError,
    AuthError,
    CommError,
    ConfigValueChanged,
    LodestarError,
    LodestarWarning,
    RunError,
    UsageError,
)
from .media import Audio, Histogram, Html, Image, Object3D, Table, Video
from .settings import Settings

__all__ = [
    "AlertLevel",
    "Api",
    "ApiError",
    "Artifact",
    "Audio",
    "AuthError",
    "CommError",
    "Config",
    "ConfigValueChanged",
    "Histogram",
    "Html",
    "Image",
    "LodestarError",
    "LodestarWarning",
    "Object3D",
    "Run",
    "RunError",
    "Settings",
    "Summary",
    "Table",
    "UsageError",
    "Video",
    "__version__",
    "alert",
    "config",
    "define_metric",
    "finish",
    "init",
    "log",
    "log_artifact",
    "login",
    "plot",
    "restore",
    "run",
    "save",
    "summary",
    "use_artifact",
    "util",
]


def __getattr__(name: str) -> object:
    # the current run's objects change with init()/finish(); Api is imported late
    if name in ("run", "config", "summary"):
        from ._state import module_attribute

        return module_attribute(name)
    if name == "Api":
        from .api import Api

        return Api
    raise AttributeError(f"module 'lodestar' has no attribute {name!r}")


def _register_magics() -> None:
    # %lodestar and %%lodestar, only inside a Jupyter kernel
    from .jupyter import register_if_in_kernel

    register_if_in_kernel()


_register_magics()
