"""NATS JetStream: the event stream, the KV buckets and their names.

Subjects: ``events.<source>.<entity>.<project>.<run>``, names encoded with
`names.encode_token`. Every publisher uses its own source, so a consumer can
tell who published what; the writer consumes ``events.>`` in stream order.
"""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from .config import PlatformConfig
from .names import encode_token

logger = logging.getLogger(__name__)

EVENTS_STREAM = "EVENTS"
DEADLETTER_STREAM = "DEADLETTER"
DEADLETTER_SUBJECT = "deadletter.writer"
WRITER_DURABLE = "writer"

BUCKET_RUNS = "runs"          # run registry, owned by ingest
BUCKET_ACCOUNTS = "accounts"  # users, entities, memberships, keys: query
BUCKET_ARTIFACTS = "artifacts"
BUCKET_ALERTS = "alerts"
BUCKET_VIEWS = "views"

SOURCES = ("ingest", "query", "artifacts", "alerts")


def event_subject(source: str, entity: str, project: str, run_id: str) -> str:
    """The subject one run's events from one publisher go to."""
    if source not in SOURCES:
        raise ValueError(f"unknown event source {source!r}; use one of {SOURCES}")
    parts = (encode_token(entity), encode_token(project), encode_token(run_id))
    return "events." + source + "." + ".".join(parts)


def run_key(entity: str, project: str, run_id: str) -> str:
    """The run registry key of a run."""
    return ".".join(encode_token(p) for p in (entity, project, run_id))


def message_id(publisher_id: str, first_seq: int, last_seq: int) -> str:
    """JetStream's message id of a batch: the first line of deduplication."""
    return f"{publisher_id}:{first_seq}:{last_seq}"


async def connect(config: PlatformConfig, name: str) -> Client:
    """Connect with the platform's credentials; reconnects forever."""
    return await nats.connect(
        config.nats_url,
        user=config.nats_user,
        password=config.nats_password,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
    )


async def ensure_streams(js: JetStreamContext, config: PlatformConfig) -> None:
    """Create the event and dead-letter streams if they do not exist."""
    max_age = config.events_max_age_days * 86400.0
    events = StreamConfig(
        name=EVENTS_STREAM,
        subjects=["events.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=max_age or None,
        max_msg_size=config.max_payload,
        duplicate_window=120.0,
        discard=DiscardPolicy.OLD,
    )
    dead = StreamConfig(
        name=DEADLETTER_STREAM,
        subjects=["deadletter.>"],
        storage=StorageType.FILE,
    )
    for name, stream in ((EVENTS_STREAM, events), (DEADLETTER_STREAM, dead)):
        try:
            await js.stream_info(name)
        except NotFoundError:
            logger.info("creating stream %s", name)
            await js.add_stream(stream)


async def bucket(js: JetStreamContext, name: str, history: int = 1) -> KeyValue:
    """Open a KV bucket, creating it on first use."""
    try:
        return await js.key_value(name)
    except BucketNotFoundError:
        logger.info("creating KV bucket %s", name)
        config = KeyValueConfig(bucket=name, history=history, storage=StorageType.FILE)
        return await js.create_key_value(config)
