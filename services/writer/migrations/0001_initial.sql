-- The first schema. Every table keeps the event id (publisher_id, seq), the
-- run's epoch and a version; ReplacingMergeTree keeps, for one sorting key,
-- the row with the highest version: (JetStream stream sequence << 24) + the
-- event's index in its message, so the change later in the stream wins.

-- History in long format: one row per (run, key, step).
-- kind is lodestar.v1.ValueKind: 1 FLOAT (f64), 2 INT and 3 BOOL (i64),
-- 4 BIGINT, 5 TEXT and 6 JSON (text).
CREATE TABLE IF NOT EXISTS history (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    key LowCardinality(String),
    step Int64,
    epoch UInt32,
    timestamp Float64,
    runtime Float64,
    kind UInt8,
    f64 Float64,
    i64 Int64,
    text String,
    publisher_id String,
    seq UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, key, step);

-- Runs: one row per changed field (name, state, tags, ...) or per config and
-- summary key; a run is the fold of its latest rows. value is JSON.
CREATE TABLE IF NOT EXISTS run_fields (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    field LowCardinality(String),
    name String,
    value String,
    deleted UInt8,
    epoch UInt32,
    timestamp Float64,
    publisher_id String,
    seq UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, field, name);

CREATE TABLE IF NOT EXISTS system_metrics (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    key LowCardinality(String),
    timestamp Float64,
    value Float64,
    epoch UInt32,
    publisher_id String,
    seq UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, key, timestamp);

CREATE TABLE IF NOT EXISTS console (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    publisher_id String,
    seq UInt64,
    line UInt32,
    timestamp Float64,
    stderr UInt8,
    text String,
    epoch UInt32,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, publisher_id, seq, line);

-- Files, artifacts used or logged, alerts: kept as JSON records until their
-- own issues give them tables.
CREATE TABLE IF NOT EXISTS run_records (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    kind LowCardinality(String),
    publisher_id String,
    seq UInt64,
    timestamp Float64,
    payload String,
    epoch UInt32,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, kind, publisher_id, seq);

-- Idempotency for all time: per run and publisher, the highest seq applied.
CREATE TABLE IF NOT EXISTS publisher_progress (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    publisher_id String,
    max_seq UInt64,
    stream_seq UInt64,
    updated_at Float64
) ENGINE = ReplacingMergeTree(max_seq)
ORDER BY (entity, project, run_id, publisher_id);
