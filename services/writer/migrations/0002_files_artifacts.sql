-- Run files and artifact lineage. A run file is one row per (run, path): the
-- latest FileEntry wins, and a deleted file keeps its row with deleted = 1.
-- manifest is the file's FileManifest as JSON ({"sha256","size","chunks"}).
CREATE TABLE IF NOT EXISTS run_files (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    path String,
    sha256 String,
    size UInt64,
    manifest String,
    deleted UInt8,
    timestamp Float64,
    epoch UInt32,
    publisher_id String,
    seq UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, path);

-- Lineage: one row per run and artifact version it logged (used = 0) or used
-- (used = 1). A version deleted later gets deleted = 1 on its logged row.
CREATE TABLE IF NOT EXISTS artifact_lineage (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    used UInt8,
    artifact_entity LowCardinality(String),
    artifact_project LowCardinality(String),
    name String,
    artifact_version String,
    type String,
    digest String,
    deleted UInt8,
    timestamp Float64,
    epoch UInt32,
    publisher_id String,
    seq UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, used, artifact_entity, artifact_project, name,
          artifact_version);

-- Alias moves as the artifacts service announced them (the KV bucket holds
-- the current aliases; this is their history).
CREATE TABLE IF NOT EXISTS artifact_alias_log (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    name String,
    alias String,
    artifact_version String,
    timestamp Float64,
    epoch UInt32,
    publisher_id String,
    seq UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, publisher_id, seq, name, alias);
