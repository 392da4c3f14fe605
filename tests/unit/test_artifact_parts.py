"""The parts of artifacts and run files that need no server: names, manifests,
digests, save specs, ignore globs, version collections, ingest's name check."""

from __future__ import annotations

import hashlib

import pytest
from lodestar._proto import events_pb2
from lodestar.artifacts.manifest import (
    CHUNK_SIZE,
    Entry,
    artifact_digest,
    describe_bytes,
    describe_file,
    dump_manifest,
    load_manifest,
)
from lodestar.artifacts.usage import parse_spec
from lodestar.errors import BadPath, UsageError
from lodestar.file_watch import ignored, make_spec
from lodestar.files import local_path, normalize_name
from lodestar_server.artifacts.errors import BadRequest, NotFound
from lodestar_server.artifacts.versions import Collection, check_alias
from lodestar_server.ingest.validate import validate


@pytest.mark.parametrize("given, stored", [
    ("a.txt", "a.txt"), ("./a//b/", "a/b"), ("dir/./x.bin", "dir/x.bin"),
    ("media/images/k_1_ab.png", "media/images/k_1_ab.png"),
])
def test_names_are_normalised(given, stored):
    assert normalize_name(given) == stored


@pytest.mark.parametrize("bad, rule", [
    ("../x", "'..' segments are not allowed"),
    ("a/../../x", "'..' segments are not allowed"),
    ("/etc/passwd", "names are relative to the run or artifact root"),
    ("C:/Windows", "names are relative to the run or artifact root"),
    ("a\\..\\b", "use '/' to separate directories, not '\\'"),
    ("bad\x00name", "control characters are not allowed"),
    ("line\nbreak", "control characters are not allowed"),
    ("", "a name is a non-empty string"),
    ("./", "the name has no file part"),
])
def test_names_that_could_escape_are_refused(bad, rule):
    with pytest.raises(BadPath) as refused:
        normalize_name(bad)
    assert refused.value.rule == rule


def test_local_path_refuses_a_symlink_out_of_the_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "out").symlink_to(tmp_path)

    assert local_path(root, "a/b.txt") == root.resolve() / "a" / "b.txt"
    with pytest.raises(BadPath):
        local_path(root, "out/secret")


def test_file_manifest_lists_chunks_only_for_multi_chunk_files(tmp_path):
    small = tmp_path / "small"
    small.write_bytes(b"x" * 10)
    large = tmp_path / "large"
    large.write_bytes(b"a" * CHUNK_SIZE + b"b" * 5)

    one = describe_file(small)
    two = describe_file(large)

    assert one.chunks == () and one.chunk_list == (one.sha256,)
    assert two.chunks == (hashlib.sha256(b"a" * CHUNK_SIZE).hexdigest(),
                          hashlib.sha256(b"b" * 5).hexdigest())
    assert two.sha256 == hashlib.sha256(large.read_bytes()).hexdigest()
    assert describe_bytes(large.read_bytes()) == two


def test_digest_depends_on_names_and_content_not_order():
    a = Entry("a.txt", sha256="1" * 64, size=1)
    b = Entry("b.txt", sha256="2" * 64, size=1)
    renamed = Entry("c.txt", sha256="2" * 64, size=1)

    assert artifact_digest([a, b]) == artifact_digest([b, a])
    assert artifact_digest([a, b]) != artifact_digest([a, renamed])
    assert list(load_manifest(dump_manifest([b, a]))) == ["a.txt", "b.txt"]


def test_manifest_with_a_climbing_name_cannot_be_loaded():
    raw = b'{"version": 1, "entries": [{"path": "../x", "sha256": "", "size": 0}]}'
    with pytest.raises(BadPath):
        load_manifest(raw)


@pytest.mark.parametrize("name, hit", [
    ("x.tmp", True), ("deep/dir/x.tmp", True), ("__pycache__/m.pyc", True),
    ("pkg/__pycache__/m.pyc", True), ("keep.txt", False), ("tmp/keep.txt", False),
])
def test_ignore_globs(name, hit):
    assert ignored(name, ["*.tmp", "__pycache__/"]) is hit


def test_save_specs_check_policy_and_base(tmp_path):
    spec = make_spec(str(tmp_path / "ckpt" / "checkpoint*"), None, "end")

    assert spec.base == str(tmp_path / "ckpt")
    with pytest.raises(UsageError):
        make_spec("x", None, "sometimes")
    with pytest.raises(UsageError):
        make_spec(str(tmp_path / "a" / "*"), str(tmp_path / "b"), "now")


@pytest.mark.parametrize("spec, parsed", [
    ("ds", ("me", "proj", "ds", "latest")),
    ("ds:v3", ("me", "proj", "ds", "v3")),
    ("other/ds:best", ("me", "other", "ds", "best")),
    ("team/other/ds:latest", ("team", "other", "ds", "latest")),
])
def test_artifact_specs(spec, parsed):
    assert parse_spec(spec, "me", "proj") == parsed


def test_collection_resolves_versions_aliases_and_latest():
    collection = Collection("dataset", 0.0, ["d0", None, "d2"], {"best": 0})

    assert collection.resolve("latest") == 2
    assert collection.resolve("best") == 0
    assert collection.resolve("v2") == 2
    assert collection.aliases_of(2) == ["latest"]
    with pytest.raises(NotFound):
        collection.resolve("v1")
    with pytest.raises(BadRequest):
        check_alias("v7")


def test_ingest_drops_file_events_whose_names_climb():
    event = events_pb2.Event(seq=3, timestamp=1.0,
                             file=events_pb2.FileEntry(path="../../etc/cron"))
    odd = events_pb2.Event(seq=4, timestamp=1.0,
                           file=events_pb2.FileEntry(path="./a//b"))

    ok, rejected = validate(event)
    odd_ok, odd_rejected = validate(odd)

    assert ok is False and "'..' segments are not allowed" in rejected[0].reason
    assert odd_ok is False and odd_rejected[0].reason == (
        "file name './a//b' is not normalised; use 'a/b'")
