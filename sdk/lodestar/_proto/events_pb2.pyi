from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ResumeMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESUME_NEVER: _ClassVar[ResumeMode]
    RESUME_ALLOW: _ClassVar[ResumeMode]
    RESUME_MUST: _ClassVar[ResumeMode]

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATE_UNSPECIFIED: _ClassVar[RunState]
    RUNNING: _ClassVar[RunState]
    FINISHED: _ClassVar[RunState]
    FAILED: _ClassVar[RunState]
    KILLED: _ClassVar[RunState]
    PREEMPTED: _ClassVar[RunState]
    UNREACHABLE: _ClassVar[RunState]
    CRASHED: _ClassVar[RunState]

class AlertLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INFO: _ClassVar[AlertLevel]
    WARN: _ClassVar[AlertLevel]
    ERROR: _ClassVar[AlertLevel]

class ValueKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALUE_KIND_UNSPECIFIED: _ClassVar[ValueKind]
    FLOAT: _ClassVar[ValueKind]
    INT: _ClassVar[ValueKind]
    BOOL: _ClassVar[ValueKind]
    BIGINT: _ClassVar[ValueKind]
    TEXT: _ClassVar[ValueKind]
    JSON: _ClassVar[ValueKind]
RESUME_NEVER: ResumeMode
RESUME_ALLOW: ResumeMode
RESUME_MUST: ResumeMode
RUN_STATE_UNSPECIFIED: RunState
RUNNING: RunState
FINISHED: RunState
FAILED: RunState
KILLED: RunState
PREEMPTED: RunState
UNREACHABLE: RunState
CRASHED: RunState
INFO: AlertLevel
WARN: AlertLevel
ERROR: AlertLevel
VALUE_KIND_UNSPECIFIED: ValueKind
FLOAT: ValueKind
INT: ValueKind
BOOL: ValueKind
BIGINT: ValueKind
TEXT: ValueKind
JSON: ValueKind

class WalHeader(_message.Message):
    __slots__ = ("wal_id", "entity", "project", "run_id", "created_at", "sdk_version")
    WAL_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SDK_VERSION_FIELD_NUMBER: _ClassVar[int]
    wal_id: str
    entity: str
    project: str
    run_id: str
    created_at: float
    sdk_version: str
    def __init__(self, wal_id: _Optional[str] = ..., entity: _Optional[str] = ..., project: _Optional[str] = ..., run_id: _Optional[str] = ..., created_at: _Optional[float] = ..., sdk_version: _Optional[str] = ...) -> None: ...

class RunStart(_message.Message):
    __slots__ = ("resume", "name", "group", "job_type", "tags", "notes", "config_json", "metadata_json", "resume_from", "fork_from")
    RESUME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    RESUME_FROM_FIELD_NUMBER: _ClassVar[int]
    FORK_FROM_FIELD_NUMBER: _ClassVar[int]
    resume: ResumeMode
    name: str
    group: str
    job_type: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    notes: str
    config_json: str
    metadata_json: str
    resume_from: str
    fork_from: str
    def __init__(self, resume: _Optional[_Union[ResumeMode, str]] = ..., name: _Optional[str] = ..., group: _Optional[str] = ..., job_type: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., notes: _Optional[str] = ..., config_json: _Optional[str] = ..., metadata_json: _Optional[str] = ..., resume_from: _Optional[str] = ..., fork_from: _Optional[str] = ...) -> None: ...

class ConfigUpdate(_message.Message):
    __slots__ = ("set_json", "remove")
    SET_JSON_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    set_json: str
    remove: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, set_json: _Optional[str] = ..., remove: _Optional[_Iterable[str]] = ...) -> None: ...

class SummaryUpdate(_message.Message):
    __slots__ = ("set_json", "remove")
    SET_JSON_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    set_json: str
    remove: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, set_json: _Optional[str] = ..., remove: _Optional[_Iterable[str]] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("key", "kind", "rows", "f64", "i64", "text")
    KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    F64_FIELD_NUMBER: _ClassVar[int]
    I64_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    key: str
    kind: ValueKind
    rows: _containers.RepeatedScalarFieldContainer[int]
    f64: _containers.RepeatedScalarFieldContainer[float]
    i64: _containers.RepeatedScalarFieldContainer[int]
    text: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., kind: _Optional[_Union[ValueKind, str]] = ..., rows: _Optional[_Iterable[int]] = ..., f64: _Optional[_Iterable[float]] = ..., i64: _Optional[_Iterable[int]] = ..., text: _Optional[_Iterable[str]] = ...) -> None: ...

class HistoryBatch(_message.Message):
    __slots__ = ("steps", "timestamps", "runtimes", "columns", "has_nonfinite", "keys", "max_step")
    STEPS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    HAS_NONFINITE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    MAX_STEP_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedScalarFieldContainer[int]
    timestamps: _containers.RepeatedScalarFieldContainer[float]
    runtimes: _containers.RepeatedScalarFieldContainer[float]
    columns: _containers.RepeatedCompositeFieldContainer[Column]
    has_nonfinite: bool
    keys: _containers.RepeatedScalarFieldContainer[str]
    max_step: int
    def __init__(self, steps: _Optional[_Iterable[int]] = ..., timestamps: _Optional[_Iterable[float]] = ..., runtimes: _Optional[_Iterable[float]] = ..., columns: _Optional[_Iterable[_Union[Column, _Mapping]]] = ..., has_nonfinite: bool = ..., keys: _Optional[_Iterable[str]] = ..., max_step: _Optional[int] = ...) -> None: ...

class SystemMetrics(_message.Message):
    __slots__ = ("timestamps", "columns")
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    timestamps: _containers.RepeatedScalarFieldContainer[float]
    columns: _containers.RepeatedCompositeFieldContainer[Column]
    def __init__(self, timestamps: _Optional[_Iterable[float]] = ..., columns: _Optional[_Iterable[_Union[Column, _Mapping]]] = ...) -> None: ...

class ConsoleLine(_message.Message):
    __slots__ = ("timestamp", "stderr", "text")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    timestamp: float
    stderr: bool
    text: str
    def __init__(self, timestamp: _Optional[float] = ..., stderr: bool = ..., text: _Optional[str] = ...) -> None: ...

class ConsoleOutput(_message.Message):
    __slots__ = ("lines",)
    LINES_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[ConsoleLine]
    def __init__(self, lines: _Optional[_Iterable[_Union[ConsoleLine, _Mapping]]] = ...) -> None: ...

class DefineMetric(_message.Message):
    __slots__ = ("name", "step_metric", "summary")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STEP_METRIC_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    name: str
    step_metric: str
    summary: str
    def __init__(self, name: _Optional[str] = ..., step_metric: _Optional[str] = ..., summary: _Optional[str] = ...) -> None: ...

class FileEntry(_message.Message):
    __slots__ = ("path", "sha256", "size", "manifest_json", "deleted")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_JSON_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    path: str
    sha256: str
    size: int
    manifest_json: str
    deleted: bool
    def __init__(self, path: _Optional[str] = ..., sha256: _Optional[str] = ..., size: _Optional[int] = ..., manifest_json: _Optional[str] = ..., deleted: bool = ...) -> None: ...

class ArtifactEvent(_message.Message):
    __slots__ = ("name", "type", "version", "digest", "used", "manifest_json", "aliases", "deleted", "producer_run")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_JSON_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_RUN_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    version: str
    digest: str
    used: bool
    manifest_json: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    deleted: bool
    producer_run: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., version: _Optional[str] = ..., digest: _Optional[str] = ..., used: bool = ..., manifest_json: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ..., deleted: bool = ..., producer_run: _Optional[str] = ...) -> None: ...

class AliasMove(_message.Message):
    __slots__ = ("name", "alias", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    alias: str
    version: str
    def __init__(self, name: _Optional[str] = ..., alias: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class TableChunk(_message.Message):
    __slots__ = ("key", "step", "table_id", "first_row", "total_rows", "columns", "rows_json", "column_types_json")
    KEY_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TABLE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_ROW_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ROWS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_JSON_FIELD_NUMBER: _ClassVar[int]
    COLUMN_TYPES_JSON_FIELD_NUMBER: _ClassVar[int]
    key: str
    step: int
    table_id: str
    first_row: int
    total_rows: int
    columns: _containers.RepeatedScalarFieldContainer[str]
    rows_json: _containers.RepeatedScalarFieldContainer[str]
    column_types_json: str
    def __init__(self, key: _Optional[str] = ..., step: _Optional[int] = ..., table_id: _Optional[str] = ..., first_row: _Optional[int] = ..., total_rows: _Optional[int] = ..., columns: _Optional[_Iterable[str]] = ..., rows_json: _Optional[_Iterable[str]] = ..., column_types_json: _Optional[str] = ...) -> None: ...

class AlertFired(_message.Message):
    __slots__ = ("alert_id", "rule", "title", "text", "level", "paged", "reason", "event_time")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    PAGED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    rule: str
    title: str
    text: str
    level: AlertLevel
    paged: bool
    reason: str
    event_time: float
    def __init__(self, alert_id: _Optional[str] = ..., rule: _Optional[str] = ..., title: _Optional[str] = ..., text: _Optional[str] = ..., level: _Optional[_Union[AlertLevel, str]] = ..., paged: bool = ..., reason: _Optional[str] = ..., event_time: _Optional[float] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("alert_id", "channel_id", "attempt", "status", "error")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    channel_id: str
    attempt: int
    status: str
    error: str
    def __init__(self, alert_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., attempt: _Optional[int] = ..., status: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class Preempting(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("title", "text", "level", "wait_duration")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    WAIT_DURATION_FIELD_NUMBER: _ClassVar[int]
    title: str
    text: str
    level: AlertLevel
    wait_duration: float
    def __init__(self, title: _Optional[str] = ..., text: _Optional[str] = ..., level: _Optional[_Union[AlertLevel, str]] = ..., wait_duration: _Optional[float] = ...) -> None: ...

class Finish(_message.Message):
    __slots__ = ("exit_code", "state", "reason")
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    state: RunState
    reason: str
    def __init__(self, exit_code: _Optional[int] = ..., state: _Optional[_Union[RunState, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class Lifecycle(_message.Message):
    __slots__ = ("state", "reason", "epoch", "rewind_step", "heartbeat_at", "previous_epoch")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    REWIND_STEP_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_AT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_EPOCH_FIELD_NUMBER: _ClassVar[int]
    state: RunState
    reason: str
    epoch: int
    rewind_step: int
    heartbeat_at: float
    previous_epoch: int
    def __init__(self, state: _Optional[_Union[RunState, str]] = ..., reason: _Optional[str] = ..., epoch: _Optional[int] = ..., rewind_step: _Optional[int] = ..., heartbeat_at: _Optional[float] = ..., previous_epoch: _Optional[int] = ...) -> None: ...

class Edit(_message.Message):
    __slots__ = ("field", "value_json")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    field: str
    value_json: str
    def __init__(self, field: _Optional[str] = ..., value_json: _Optional[str] = ...) -> None: ...

class Tombstone(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("seq", "timestamp", "run_start", "config", "history", "summary", "system", "console", "file", "artifact", "alert", "finish", "lifecycle", "edit", "tombstone", "define_metric", "alias", "table_chunk", "alert_fired", "delivery", "preempting")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    RUN_START_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    CONSOLE_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    ALERT_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    EDIT_FIELD_NUMBER: _ClassVar[int]
    TOMBSTONE_FIELD_NUMBER: _ClassVar[int]
    DEFINE_METRIC_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    TABLE_CHUNK_FIELD_NUMBER: _ClassVar[int]
    ALERT_FIRED_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    PREEMPTING_FIELD_NUMBER: _ClassVar[int]
    seq: int
    timestamp: float
    run_start: RunStart
    config: ConfigUpdate
    history: HistoryBatch
    summary: SummaryUpdate
    system: SystemMetrics
    console: ConsoleOutput
    file: FileEntry
    artifact: ArtifactEvent
    alert: Alert
    finish: Finish
    lifecycle: Lifecycle
    edit: Edit
    tombstone: Tombstone
    define_metric: DefineMetric
    alias: AliasMove
    table_chunk: TableChunk
    alert_fired: AlertFired
    delivery: Delivery
    preempting: Preempting
    def __init__(self, seq: _Optional[int] = ..., timestamp: _Optional[float] = ..., run_start: _Optional[_Union[RunStart, _Mapping]] = ..., config: _Optional[_Union[ConfigUpdate, _Mapping]] = ..., history: _Optional[_Union[HistoryBatch, _Mapping]] = ..., summary: _Optional[_Union[SummaryUpdate, _Mapping]] = ..., system: _Optional[_Union[SystemMetrics, _Mapping]] = ..., console: _Optional[_Union[ConsoleOutput, _Mapping]] = ..., file: _Optional[_Union[FileEntry, _Mapping]] = ..., artifact: _Optional[_Union[ArtifactEvent, _Mapping]] = ..., alert: _Optional[_Union[Alert, _Mapping]] = ..., finish: _Optional[_Union[Finish, _Mapping]] = ..., lifecycle: _Optional[_Union[Lifecycle, _Mapping]] = ..., edit: _Optional[_Union[Edit, _Mapping]] = ..., tombstone: _Optional[_Union[Tombstone, _Mapping]] = ..., define_metric: _Optional[_Union[DefineMetric, _Mapping]] = ..., alias: _Optional[_Union[AliasMove, _Mapping]] = ..., table_chunk: _Optional[_Union[TableChunk, _Mapping]] = ..., alert_fired: _Optional[_Union[AlertFired, _Mapping]] = ..., delivery: _Optional[_Union[Delivery, _Mapping]] = ..., preempting: _Optional[_Union[Preempting, _Mapping]] = ...) -> None: ...

class PublishedBatch(_message.Message):
    __slots__ = ("entity", "project", "run_id", "publisher_id", "epoch", "events", "published_at", "user")
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_ID_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    entity: str
    project: str
    run_id: str
    publisher_id: str
    epoch: int
    events: _containers.RepeatedCompositeFieldContainer[Event]
    published_at: float
    user: str
    def __init__(self, entity: _Optional[str] = ..., project: _Optional[str] = ..., run_id: _Optional[str] = ..., publisher_id: _Optional[str] = ..., epoch: _Optional[int] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., published_at: _Optional[float] = ..., user: _Optional[str] = ...) -> None: ...
