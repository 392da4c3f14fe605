"""`Api`: read projects, runs and their history from a Lodestar platform."""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..settings import load_settings
from ._http import Transport
from .runs import Project, Run, Runs, run_path


class Api:
    """Reads what the platform stored, over its REST API.

    Args:
        overrides: settings to use instead of the environment's, for example
            ``{"base_url": "http://host:8080", "entity": "team"}``.
        api_key: the key to use; by default `LODESTAR_API_KEY` or the one
            stored for the host by ``lodestar login``.
        timeout: seconds each HTTP call may take.
    """

    def __init__(
        self,
        overrides: dict[str, Any] | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        overrides = dict(overrides or {})
        if api_key is not None:
            overrides["api_key"] = api_key
        self.settings = load_settings(**overrides)
        self._transport = Transport(
            self.settings.base_url, self.settings.api_key, timeout
        )
        self._viewer: dict[str, Any] | None = None

    @property
    def viewer(self) -> dict[str, Any]:
        """The key's user: name, admin flag, entities."""
        if self._viewer is None:
            self._viewer = self._transport.get("/api/v1/viewer")
        return self._viewer

    @property
    def default_entity(self) -> str:
        return self.settings.entity or self.viewer["default_entity"]

    def projects(self, entity: str | None = None) -> list[Project]:
        found = self._transport.get(
            "/api/v1/projects", {"entity": entity or self.default_entity}
        )
        return [Project(p["entity"], p["name"], p["run_count"], p["last_activity"])
                for p in found["projects"]]

    def runs(
        self,
        path: str,
        filters: dict[str, Any] | None = None,
        order: str = "+created_at",
        per_page: int = 50,
    ) -> Runs:
        """The runs of ``"entity/project"`` (or ``"project"``) that match.

        Args:
            path: ``"entity/project"``, or ``"project"`` of the default entity.
            filters: a MongoDB-style filter such as
                ``{"$and": [{"config.lr": {"$lt": 0.1}}, {"state": "finished"}]}``
                (the operators and fields are listed in the docs).
            order: ``created_at``, ``heartbeat_at``, ``config.<key>`` or
                ``summary_metrics.<key>``, with ``+`` (ascending) or ``-``.
            per_page: runs fetched per request as the result is iterated.

        A bad filter raises `ApiError` (status 400) saying what is wrong.
        """
        entity, project = self._split(path, 2)
        return Runs(self._transport, entity, project, per_page, order, filters)

    def run(self, path: str) -> Run:
        """One run: ``"entity/project/run_id"`` or ``"project/run_id"``."""
        entity, project, run_id = self._split(path, 3)
        return Run(self._transport, self._transport.get(
            run_path(entity, project, run_id)
        ))

    def table(self, path: str, key: str, **options: Any) -> Any:
        """The table logged under `key` by run `path`; see `Run.table`."""
        return self.run(path).table(key, **options)

    def artifact(self, name: str, type: str | None = None) -> Any:
        """An artifact version: ``"entity/project/name:alias"`` (or ``:vN``)."""
        from ..artifacts import public

        return public.artifact(self, name, type)

    def artifact_versions(self, type_name: str, name: str) -> list[Any]:
        """Every version of ``"entity/project/name"`` of type `type_name`."""
        from ..artifacts import public

        return public.artifact_versions(self, type_name, name)

    def artifacts(self, type_name: str, name: str) -> list[Any]:
        """Every version of ``"entity/project/name"`` of type `type_name`."""
        return self.artifact_versions(type_name, name)

    def _split(self, path: str, size: int) -> list[str]:
        parts = [p for p in path.strip("/").split("/") if p]
        if size == 3 and len(parts) == 4 and parts[2] == "runs":
            parts = [parts[0], parts[1], parts[3]]
        if len(parts) == size - 1:
            parts = [self.default_entity, *parts]
        if len(parts) != size:
            shape = "entity/project/run_id" if size == 3 else "entity/project"
            raise UsageError(f"path {path!r} is not {shape!r}")
        return parts
