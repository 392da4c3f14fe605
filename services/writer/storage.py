"""The storage interface: one small surface over ClickHouse, two backends.

`ChdbStorage` runs the ClickHouse engine in this process (local profile);
`ClickHouseStorage` talks to a ClickHouse server through clickhouse-connect
(cluster profile). Nothing above this module knows which one it has. SQL takes
parameters through ClickHouse's ``{name:Type}`` binding in both backends, so
no value a user chose is ever pasted into a statement.

Errors::

    StorageError            any failure of the store, with the statement
    └── StorageUnavailable  the store cannot be reached or opened
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlparse

from .native import encode_block

logger = logging.getLogger(__name__)

Params = dict[str, Any] | None


class StorageError(Exception):
    """A statement the store refused or could not run."""

    def __init__(self, message: str, sql: str = "") -> None:
        self.sql = sql
        super().__init__(f"{message} (in: {_shorten(sql)})" if sql else message)


class StorageUnavailable(StorageError):
    """The store cannot be reached or opened."""


def _shorten(sql: str, limit: int = 200) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


class Storage(ABC):
    """What the writer and the query service need from ClickHouse."""

    @abstractmethod
    def command(self, sql: str, params: Params = None) -> None:
        """Run a statement that returns nothing (DDL, OPTIMIZE, ...)."""

    @abstractmethod
    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Run a SELECT; one dict per row, values in their Python types."""

    @abstractmethod
    def insert(self, table: str, columns: dict[str, Sequence[Any]]) -> int:
        """Insert equal-length columns (lists or numpy arrays); returns rows."""

    def close(self) -> None:  # noqa: B027 - a backend may hold nothing to close
        """Release the connection."""

    def column_types(self, table: str) -> dict[str, str]:
        """The ClickHouse type of each column of `table`."""
        rows = self.query(
            "SELECT name, type FROM system.columns "
            "WHERE database = currentDatabase() AND table = {table:String}",
            {"table": table},
        )
        if not rows:
            raise StorageError(f"table {table!r} does not exist; run the migrations")
        return {row["name"]: row["type"] for row in rows}


class ChdbStorage(Storage):
    """chDB: the ClickHouse engine in-process, one data directory per process.

    chDB's connection must be used one call at a time, so every call holds a
    lock; FastAPI's worker threads and the writer can share one instance.
    """

    def __init__(self, path: str) -> None:
        import chdb.session

        try:
            self._session = chdb.session.Session(path)
        except Exception as exc:  # chDB raises plain RuntimeError and others
            raise StorageUnavailable(f"cannot open chDB at {path}: {exc}") from exc
        self.path = path
        self._lock = threading.Lock()
        self._types: dict[str, dict[str, str]] = {}

    def command(self, sql: str, params: Params = None) -> None:
        self._run(sql, params, "CSV")

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        table = self._run(sql, params, "ArrowTable")
        return table.to_pylist() if table is not None else []

    def insert(self, table: str, columns: dict[str, Sequence[Any]]) -> int:
        if not columns or not len(next(iter(columns.values()))):
            return 0
        types = self._types.get(table) or self._remember_types(table)
        payload = encode_block(columns, types)
        statement = f"INSERT INTO {table} ({', '.join(columns)})"
        with self._lock:
            try:
                inserter = self._session.send_insert(statement, "Native")
                inserter.append(payload)
                return int(inserter.finish().rows_written)
            except Exception as exc:
                raise StorageError(str(exc), statement) from exc

    def close(self) -> None:
        with self._lock:
            self._session.close()

    def _remember_types(self, table: str) -> dict[str, str]:
        types = self.column_types(table)
        self._types[table] = types
        return types

    def _run(self, sql: str, params: Params, fmt: str) -> Any:
        bound = {k: _chdb_param(v) for k, v in (params or {}).items()}
        with self._lock:
            try:
                return self._session.query(sql, fmt, params=bound or None)
            except Exception as exc:  # chDB raises ChdbError or RuntimeError
                self._settle()
                raise StorageError(str(exc), sql) from exc

    def _settle(self) -> None:
        # After a query fails while running, chDB hands what is left of its
        # result to the next query, which then fails to decode it; a
        # throwaway query takes it instead.
        try:
            self._session.query("SELECT 1", "CSV")
        except Exception as exc:  # noqa: BLE001 - the leftover is expected here
            logger.debug("chDB settled after a failed query: %s", exc)


def _chdb_param(value: Any) -> Any:
    """chDB takes arrays as ClickHouse literals, and text in the escaped (TSV)
    form, where a backslash, tab or newline must be escaped to arrive as given."""
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_literal(v) for v in value) + "]"
    if isinstance(value, str):
        return value.translate(_TSV_ESCAPES)
    return value


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _literal(value: Any) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        return f"'{escaped}'"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    raise TypeError(f"cannot bind {type(value).__name__} inside an array parameter")


class ClickHouseStorage(Storage):
    """A ClickHouse server through clickhouse-connect (cluster profile)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        import clickhouse_connect

        parsed = urlparse(url)
        try:
            self._client = clickhouse_connect.get_client(
                host=parsed.hostname or "localhost",
                port=parsed.port or (8443 if parsed.scheme == "https" else 8123),
                username=unquote(parsed.username or "default"),
                password=unquote(parsed.password or ""),
                database=parsed.path.lstrip("/") or "default",
                secure=parsed.scheme == "https",
                connect_timeout=timeout,
                send_receive_timeout=timeout,
            )
        except Exception as exc:  # clickhouse-connect raises its own tree
            raise StorageUnavailable(
                f"cannot reach ClickHouse at {parsed.hostname}:{parsed.port}: {exc}"
            ) from exc
        self._lock = threading.Lock()

    def command(self, sql: str, params: Params = None) -> None:
        with self._lock:
            try:
                self._client.command(sql, parameters=params or None)
            except Exception as exc:
                raise StorageError(str(exc), sql) from exc

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        with self._lock:
            try:
                result = self._client.query(sql, parameters=params or None)
            except Exception as exc:
                raise StorageError(str(exc), sql) from exc
        return list(result.named_results())

    def insert(self, table: str, columns: dict[str, Sequence[Any]]) -> int:
        if not columns or not len(next(iter(columns.values()))):
            return 0
        data = [_as_list(values) for values in columns.values()]
        with self._lock:
            try:
                self._client.insert(
                    table, data, column_names=list(columns), column_oriented=True
                )
            except Exception as exc:
                raise StorageError(str(exc), f"INSERT INTO {table}") from exc
        return len(data[0])

    def close(self) -> None:
        with self._lock:
            self._client.close()


def _as_list(values: Sequence[Any]) -> list[Any]:
    tolist = getattr(values, "tolist", None)
    return tolist() if tolist is not None else list(values)


def make_storage(storage_url: str) -> Storage:
    """`chdb:///abs/path` or `http(s)://user:password@host:port/database`."""
    if storage_url.startswith("chdb://"):
        path = storage_url[len("chdb://") :]
        if not path.startswith("/"):
            raise StorageError(
                f"storage_url {storage_url!r} needs an absolute path: chdb:///abs/dir"
            )
        return ChdbStorage(path)
    if storage_url.startswith(("http://", "https://")):
        return ClickHouseStorage(storage_url)
    raise StorageError(
        f"storage_url {storage_url!r} is not chdb:///PATH or http(s)://HOST:PORT/DB"
    )
