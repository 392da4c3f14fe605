"""The local profile's real servers answer with their credentials only."""

from __future__ import annotations

import asyncio
import io
import socket
import uuid

import nats
import pytest
import redis
from lodestar_server.common.config import PlatformConfig
from minio import Minio
from minio.error import S3Error


def _minio(config: PlatformConfig, secret: str | None = None) -> Minio:
    return Minio(
        config.s3_endpoint,
        access_key=config.s3_access_key,
        secret_key=secret or config.s3_secret_key,
        secure=False,
    )


def test_jetstream_stores_a_published_message(servers: PlatformConfig) -> None:
    async def publish_and_read() -> bytes:
        client = await nats.connect(
            servers.nats_url, user=servers.nats_user,
            password=servers.nats_password, connect_timeout=5,
        )
        try:
            js = client.jetstream(timeout=5)
            stream = "SMOKE" + uuid.uuid4().hex[:8].upper()
            await js.add_stream(name=stream, subjects=[stream.lower() + ".>"])
            ack = await js.publish(stream.lower() + ".a", b"x" * 2_000_000)
            message = await js.get_msg(stream, ack.seq)
            await js.delete_stream(stream)
            return message.data or b""
        finally:
            await client.close()

    assert asyncio.run(publish_and_read()) == b"x" * 2_000_000


def test_nats_refuses_a_wrong_password(servers: PlatformConfig) -> None:
    async def connect() -> None:
        await nats.connect(
            servers.nats_url, user=servers.nats_user, password="wrong",
            connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False,
        )

    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        asyncio.run(connect())


def test_valkey_sets_and_gets_with_its_password(servers: PlatformConfig) -> None:
    client = redis.Redis.from_url(servers.redis_url, socket_timeout=5)
    key = "smoke:" + uuid.uuid4().hex
    client.set(key, b"value")
    assert client.get(key) == b"value"


def test_valkey_refuses_a_client_without_password(servers: PlatformConfig) -> None:
    address = servers.redis_url.rsplit("@", 1)[1].split("/")[0].split(":")
    with socket.create_connection((address[0], int(address[1])), 5) as sock:
        sock.sendall(b"GET anything\r\n")
        reply = sock.recv(4096)
    assert reply.startswith(b"-NOAUTH ")


def test_s3_creates_bucket_puts_and_gets(servers: PlatformConfig) -> None:
    client = _minio(servers)
    bucket = "smoke-" + uuid.uuid4().hex[:8]
    client.make_bucket(bucket)
    client.put_object(bucket, "a/b.txt", io.BytesIO(b"hello"), 5)
    reply = client.get_object(bucket, "a/b.txt")
    try:
        assert reply.read() == b"hello"
    finally:
        reply.close()
        reply.release_conn()
    assert client.bucket_exists(servers.s3_bucket) is True


def test_s3_refuses_a_wrong_secret(servers: PlatformConfig) -> None:
    with pytest.raises(S3Error) as caught:
        _minio(servers, secret="wrong-secret").list_buckets()
    assert caught.value.code == "SignatureDoesNotMatch"
