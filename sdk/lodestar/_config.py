"""A run's config: the hyperparameters, as a mapping with attribute access.

Values are stored as JSON-compatible deep copies (tuples become lists, numpy
scalars become numbers), so the config the server holds is exactly the one
the script sees. Nested dicts stay nested, and a nested value edited in place
(``config.optimizer["lr"] = 0.1``) reaches the server at the next `update` or
when the run finishes: every push compares each key with what was last sent.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigValueChanged, LodestarWarning, UsageError

logger = logging.getLogger(__name__)

DEFAULTS_FILE = "config-defaults.yaml"
_RESERVED_FILE_KEYS = ("wandb_version", "lodestar_version", "_wandb", "_lodestar")

# Called with the keys set (as a fresh JSON-compatible dict) and the keys removed.
ConfigSink = Callable[[dict[str, Any], list[str]], None]


class Config:
    """The config of one run. Item and attribute access both work."""

    def __init__(self, sink: ConfigSink | None = None) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_sent", {})
        object.__setattr__(self, "_sink", sink)

    # ---- reading ----------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Config({self._items!r})"

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def keys(self):
        return self._items.keys()

    def items(self):
        return self._items.items()

    def values(self):
        return self._items.values()

    def as_dict(self) -> dict[str, Any]:
        """A deep copy of the config as plain dicts and lists."""
        return json.loads(_dump(self._items))

    # ---- writing ----------------------------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self.update({name: value})

    def __delitem__(self, key: str) -> None:
        del self._items[key]
        self.push()

    def __delattr__(self, name: str) -> None:
        try:
            self.__delitem__(name)
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def update(self, values: Any = None, allow_val_change: bool = False) -> None:
        """Set keys from a mapping, an ``argparse.Namespace`` or absl flags.

        Raises:
            ConfigValueChanged: a key already holds a different value and
                `allow_val_change` is False.
        """
        clean = {str(k): sanitize(v) for k, v in to_mapping(values).items()}
        if not allow_val_change:
            self._check_unchanged(clean)
        self._items.update(clean)
        self.push()

    def setdefaults(self, values: Any) -> None:
        """Set only the keys that are not there yet."""
        missing = {
            k: v for k, v in to_mapping(values).items() if str(k) not in self._items
        }
        self.update(missing)

    def push(self) -> None:
        """Send every key that changed since the last push, in-place edits too."""
        changed, removed = self._changes()
        if not changed and not removed:
            return
        for key in removed:
            del self._sent[key]
        for key, text in changed.items():
            self._sent[key] = text
        if self._sink is not None:
            self._sink({k: json.loads(t) for k, t in changed.items()}, removed)

    def _check_unchanged(self, clean: dict[str, Any]) -> None:
        for key, value in clean.items():
            if key in self._items and _dump(self._items[key]) != _dump(value):
                raise ConfigValueChanged(key, self._items[key], value)

    def _changes(self) -> tuple[dict[str, str], list[str]]:
        changed = {}
        for key, value in self._items.items():
            text = _dump(value)
            if self._sent.get(key) != text:
                changed[key] = text
        removed = [key for key in self._sent if key not in self._items]
        return changed, removed

    def _load_stored(self, stored: Mapping[str, Any]) -> None:
        """Keys the server already holds (a resume), unless set here already."""
        for key, value in stored.items():
            if key not in self._items:
                self._items[key] = sanitize(value)
                self._sent[key] = _dump(self._items[key])

    def _detach(self) -> None:
        """Keep the values but send nothing more (the run has finished)."""
        object.__setattr__(self, "_sink", None)


def to_mapping(values: Any) -> Mapping[Any, Any]:
    """A mapping from a dict, a Namespace, absl-style flags or a Config."""
    if values is None:
        return {}
    if isinstance(values, Mapping):
        return values
    if isinstance(values, Config):
        return values._items
    if hasattr(values, "flag_values_dict"):
        return values.flag_values_dict()
    if hasattr(values, "__dict__") and not isinstance(values, type):
        return {k: v for k, v in vars(values).items() if not k.startswith("_")}
    raise UsageError(
        f"config values of type {type(values).__qualname__} are not supported; "
        "pass a dict, an argparse.Namespace, absl flags or a YAML file path"
    )


def sanitize(value: Any) -> Any:
    """A JSON-compatible deep copy of a config value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return _plain_scalar(value)
    if isinstance(value, Mapping):
        return {str(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [sanitize(v) for v in value]
    if hasattr(value, "tolist"):
        return sanitize(value.tolist())
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dict__") and type(value).__name__ == "Namespace":
        return sanitize(vars(value))
    warnings.warn(
        f"config value {value!r} of type {type(value).__qualname__} is stored as "
        "its text; use numbers, strings, lists or dicts to keep its type",
        LodestarWarning,
        stacklevel=4,
    )
    return str(value)


def _plain_scalar(value: Any) -> Any:
    # bool and str subclasses (numpy.str_, enums) travel as their base type
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Config values from a YAML file, plain or ``{key: {desc, value}}``.

    Raises:
        UsageError: the file is missing or does not hold a mapping.
    """
    import yaml  # only when a file is read: keeps ``import lodestar`` light

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read config file {str(path)!r}: {exc}") from exc
    if not isinstance(raw, dict):
        raise UsageError(f"config file {str(path)!r} must hold a mapping of keys")
    return {
        str(key): _unwrap(value)
        for key, value in raw.items()
        if key not in _RESERVED_FILE_KEYS
    }


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict) and "value" in value and set(value) <= {
        "value",
        "desc",
    }:
        return value["value"]
    return value


def load_defaults(directory: Path) -> dict[str, Any]:
    """``config-defaults.yaml`` of `directory`, or nothing when absent."""
    path = directory / DEFAULTS_FILE
    if not path.is_file():
        return {}
    logger.debug("loading config defaults from %s", path)
    return load_yaml(path)
