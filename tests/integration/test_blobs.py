"""The blob store against real S3 (SeaweedFS): chunks, dedup, resume, the
server's hash check, entity isolation and garbage collection."""

from __future__ import annotations

import hashlib
import json
import urllib.request

import pytest
from artifacts_support import blobs, entity, new_user, write_random
from lodestar.artifacts.manifest import (
    CHUNK_SIZE,
    Entry,
    artifact_digest,
    describe_file,
    dump_manifest,
)
from lodestar.artifacts.transfer import BlobClient
from lodestar.errors import ApiError

pytestmark = pytest.mark.timeout(300)


class _DropsAfter(BlobClient):
    """A client whose network fails after `limit` chunk PUTs."""

    def __init__(self, *args, limit: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit

    def _put(self, url, source) -> None:
        if self.chunks_sent >= self.limit:
            raise ConnectionError("network dropped")
        super()._put(url, source)


def test_multi_chunk_file_round_trips_and_uploads_once(local_platform, tmp_path):
    source = tmp_path / "three.bin"
    write_random(source, 2 * CHUNK_SIZE + 12345, seed=101)
    manifest = describe_file(source)
    client = blobs(local_platform)
    owner = entity(local_platform)

    client.upload_files(owner, [(str(source), manifest)])
    client.upload_files(owner, [(str(source), manifest)])
    client.download_file(owner, manifest, tmp_path / "back.bin")

    assert len(manifest.chunks) == 3
    assert client.chunks_sent == 3
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()


def test_interrupted_upload_resumes_with_the_chunks_left(local_platform, tmp_path):
    source = tmp_path / "five.bin"
    write_random(source, 4 * CHUNK_SIZE + 1, seed=202)
    manifest = describe_file(source)
    owner = entity(local_platform)
    first = _DropsAfter(local_platform.config.artifacts_url, local_platform.api_key,
                        workers=1, limit=2)

    with pytest.raises(ConnectionError):
        first.upload_files(owner, [(str(source), manifest)])
    second = blobs(local_platform)
    second.upload_files(owner, [(str(source), manifest)])
    second.download_file(owner, manifest, tmp_path / "back.bin")

    assert first.chunks_sent == 2
    assert second.chunks_sent == 3
    assert describe_file(tmp_path / "back.bin") == manifest


def test_content_that_does_not_match_its_hash_never_becomes_addressable(
    local_platform,
):
    client = blobs(local_platform)
    owner = entity(local_platform)
    claimed = hashlib.sha256(b"what the client claims").hexdigest()
    staged = client.call("POST", f"/api/v1/blobs/{owner}/prepare",
                         {"chunks": [claimed]})["missing"][0]
    put = urllib.request.Request(staged["url"], data=b"something else", method="PUT")
    urllib.request.urlopen(put, timeout=30).read()

    failed = client.call("POST", f"/api/v1/blobs/{owner}/commit",
                         {"chunks": [claimed]})["failed"]
    with pytest.raises(ApiError) as missing:
        client.chunk_urls(owner, [claimed])

    actual = hashlib.sha256(b"something else").hexdigest()
    assert failed == {claimed: f"content hashes to {actual}, not {claimed}"}
    assert missing.value.status == 404


def test_knowing_a_hash_gives_no_access_to_another_entity(local_platform, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"only the first user's entity holds this")
    manifest = describe_file(secret)
    owner = entity(local_platform)
    blobs(local_platform).upload_files(owner, [(str(secret), manifest)])
    key = new_user(local_platform, "blob-stranger")
    stranger = blobs(local_platform, key)

    must_upload = stranger.call("POST", "/api/v1/blobs/blob-stranger/prepare",
                                {"chunks": [manifest.sha256]})["missing"]
    with pytest.raises(ApiError) as own_store:
        stranger.chunk_urls("blob-stranger", [manifest.sha256])
    with pytest.raises(ApiError) as other_store:
        stranger.chunk_urls(owner, [manifest.sha256])
    entries = [Entry("stolen.txt", manifest.sha256, manifest.size)]
    listed = stranger.upload_bytes("blob-stranger", dump_manifest(entries))
    with pytest.raises(ApiError) as version:
        stranger.call("POST", "/api/v1/artifacts/blob-stranger/p/stolen/versions",
                      {"digest": artifact_digest(entries), "type": "dataset",
                       "manifest": listed.to_dict()})

    assert [m["sha256"] for m in must_upload] == [manifest.sha256]
    assert own_store.value.status == 404
    assert other_store.value.status == 403
    assert version.value.status == 422
    assert "holds no blob" in str(version.value)


def test_manifest_with_a_climbing_entry_name_is_refused(local_platform, tmp_path):
    client = blobs(local_platform)
    owner = entity(local_platform)
    content = client.upload_bytes(owner, b"payload")
    raw = json.dumps({"version": 1, "entries": [
        {"path": "../../etc/evil", "sha256": content.sha256, "size": 7}]}).encode()
    listed = client.upload_bytes(owner, raw)

    with pytest.raises(ApiError) as refused:
        client.call("POST", f"/api/v1/artifacts/{owner}/p/climb/versions",
                    {"type": "dataset", "manifest": listed.to_dict()})

    assert refused.value.status == 422
    assert "'..' segments are not allowed" in str(refused.value)


def test_garbage_collection_keeps_referenced_chunks_only(local_platform):
    client = blobs(local_platform, new_user(local_platform, "gc-owner"))
    kept = [Entry("kept.txt", **_stored(client, "gc-owner", b"kept content"))]
    listed = client.upload_bytes("gc-owner", dump_manifest(kept))
    client.call("POST", "/api/v1/artifacts/gc-owner/p/kept/versions",
                {"type": "dataset", "manifest": listed.to_dict()})
    orphan = _stored(client, "gc-owner", b"nobody references this")["sha256"]

    report = blobs(local_platform).call("POST", "/api/v1/admin/gc",
                                        {"entity": "gc-owner", "grace_s": 0})
    with pytest.raises(ApiError) as gone:
        client.chunk_urls("gc-owner", [orphan])

    assert report["deleted"] == 1
    assert report["kept"] == 2  # the entry and the manifest
    assert sorted(client.chunk_urls("gc-owner", [kept[0].sha256])) == [kept[0].sha256]
    assert gone.value.status == 404


def _stored(client: BlobClient, owner: str, data: bytes) -> dict:
    manifest = client.upload_bytes(owner, data)
    return {"sha256": manifest.sha256, "size": manifest.size}
