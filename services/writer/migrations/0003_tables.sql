-- Logged tables: their rows, and one description per table. Rows arrive in
-- TableChunk events; a table id is a digest of the table's content, so a
-- table logged twice, or a chunk replayed, lands on the same sorting keys.

-- One row per table row; cells is the row as a JSON array in column order
-- (non-finite floats as the strings "NaN", "Infinity", "-Infinity").
CREATE TABLE IF NOT EXISTS table_rows (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    table_id String,
    row UInt64,
    cells String,
    epoch UInt32,
    publisher_id String,
    seq UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, table_id, row);

-- One row per table: where it was first logged, its columns (JSON array of
-- names), their types (JSON array: number, bool, string, media, json, mixed)
-- and its row count.
CREATE TABLE IF NOT EXISTS table_meta (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    table_id String,
    key String,
    step Int64,
    columns String,
    column_types String,
    total_rows UInt64,
    epoch UInt32,
    publisher_id String,
    seq UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, table_id);
