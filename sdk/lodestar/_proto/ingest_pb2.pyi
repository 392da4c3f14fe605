from lodestar._proto import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamOpen(_message.Message):
    __slots__ = ("header", "run_start")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    RUN_START_FIELD_NUMBER: _ClassVar[int]
    header: _events_pb2.WalHeader
    run_start: _events_pb2.RunStart
    def __init__(self, header: _Optional[_Union[_events_pb2.WalHeader, _Mapping]] = ..., run_start: _Optional[_Union[_events_pb2.RunStart, _Mapping]] = ...) -> None: ...

class EventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.Event]
    def __init__(self, events: _Optional[_Iterable[_Union[_events_pb2.Event, _Mapping]]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("sent_at",)
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    sent_at: float
    def __init__(self, sent_at: _Optional[float] = ...) -> None: ...

class ProcessExit(_message.Message):
    __slots__ = ("state", "reason", "at")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    state: _events_pb2.RunState
    reason: str
    at: float
    def __init__(self, state: _Optional[_Union[_events_pb2.RunState, str]] = ..., reason: _Optional[str] = ..., at: _Optional[float] = ...) -> None: ...

class ClientMessage(_message.Message):
    __slots__ = ("open", "batch", "heartbeat", "process_exit")
    OPEN_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    PROCESS_EXIT_FIELD_NUMBER: _ClassVar[int]
    open: StreamOpen
    batch: EventBatch
    heartbeat: Heartbeat
    process_exit: ProcessExit
    def __init__(self, open: _Optional[_Union[StreamOpen, _Mapping]] = ..., batch: _Optional[_Union[EventBatch, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., process_exit: _Optional[_Union[ProcessExit, _Mapping]] = ...) -> None: ...

class Opened(_message.Message):
    __slots__ = ("entity", "epoch", "next_step", "resumed", "config_json", "summary_json", "acked_seq", "run_url")
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    NEXT_STEP_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_JSON_FIELD_NUMBER: _ClassVar[int]
    ACKED_SEQ_FIELD_NUMBER: _ClassVar[int]
    RUN_URL_FIELD_NUMBER: _ClassVar[int]
    entity: str
    epoch: int
    next_step: int
    resumed: bool
    config_json: str
    summary_json: str
    acked_seq: int
    run_url: str
    def __init__(self, entity: _Optional[str] = ..., epoch: _Optional[int] = ..., next_step: _Optional[int] = ..., resumed: bool = ..., config_json: _Optional[str] = ..., summary_json: _Optional[str] = ..., acked_seq: _Optional[int] = ..., run_url: _Optional[str] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("upto_seq",)
    UPTO_SEQ_FIELD_NUMBER: _ClassVar[int]
    upto_seq: int
    def __init__(self, upto_seq: _Optional[int] = ...) -> None: ...

class Rejection(_message.Message):
    __slots__ = ("seq", "key", "reason")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    seq: int
    key: str
    reason: str
    def __init__(self, seq: _Optional[int] = ..., key: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class StreamError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ServerMessage(_message.Message):
    __slots__ = ("opened", "ack", "rejection", "error")
    OPENED_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    REJECTION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    opened: Opened
    ack: Ack
    rejection: Rejection
    error: StreamError
    def __init__(self, opened: _Optional[_Union[Opened, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., rejection: _Optional[_Union[Rejection, _Mapping]] = ..., error: _Optional[_Union[StreamError, _Mapping]] = ...) -> None: ...
