"""The SDK's errors.

    LodestarError
    ├── UsageError          a wrong argument or setting; the message says what to fix
    │   ├── ConfigValueChanged  a config key changed without allow_val_change
    │   └── BadPath         a file or entry name that could escape its directory
    ├── RunError            the server refused the run (resume rules, auth)
    ├── VerifyFailed        downloaded files differ from an artifact's manifest
    ├── CommError           the platform could not be reached or answered badly
    │   └── AuthError       the API key is missing, unknown or not allowed
    └── ApiError            a query through `lodestar.Api` failed; carries the status

Warnings about values the tracker could not record use `LodestarWarning`:
training goes on.
"""

from __future__ import annotations


class LodestarError(Exception):
    """Base of every error the SDK raises."""


class UsageError(LodestarError, ValueError):
    """A wrong argument or setting."""


class ConfigValueChanged(UsageError):
    def __init__(self, key: str, old: object, new: object) -> None:
        self.key = key
        self.old = old
        self.new = new
        super().__init__(
            f"config key {key!r} is already {old!r}; to set it to {new!r} "
            "pass allow_val_change=True"
        )


class BadPath(UsageError):
    def __init__(self, name: object, rule: str) -> None:
        self.name = name
        self.rule = rule
        super().__init__(f"file name {name!r} is not allowed: {rule}")


class MissingExtra(UsageError, ImportError):
    """A feature needs an optional package; the message names the extra."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        self.feature = feature
        super().__init__(
            f"{feature} needs the package {package!r}, which is not installed; "
            f'install it with: pip install "lodestar[{extra}]"'
        )


class RunError(LodestarError):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class VerifyFailed(LodestarError):
    def __init__(self, root: str, problem: str) -> None:
        self.root = root
        self.problem = problem
        super().__init__(f"{root} does not match the artifact: {problem}")


class CommError(LodestarError):
    """The platform could not be reached or answered badly."""


class AuthError(CommError):
    """The API key is missing, unknown or not allowed for the entity."""


class ApiError(LodestarError):
    def __init__(self, status: int, message: str, url: str = "") -> None:
        self.status = status
        self.url = url
        super().__init__(f"{message} (HTTP {status} from {url})" if url else message)


class LodestarWarning(UserWarning):
    """Something the tracker could not record; training goes on."""
