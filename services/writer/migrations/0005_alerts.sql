-- The alert log, published by the alerts service: one row per alert raised
-- (paged or only recorded, with the reason), and one per delivery attempt's
-- outcome. kind is the alert's kind (user, finished, failed, killed,
-- preempted, crashed, nan, threshold, stalled); level is lodestar.v1.AlertLevel.
CREATE TABLE IF NOT EXISTS alert_log (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    alert_id String,
    kind LowCardinality(String),
    rule String,
    title String,
    text String,
    level UInt8,
    paged UInt8,
    reason String,
    event_time Float64,
    fired_at Float64,
    epoch UInt32,
    publisher_id String,
    seq UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, alert_id);

-- status: sent, retrying or failed (with the error), per attempt.
CREATE TABLE IF NOT EXISTS alert_deliveries (
    entity LowCardinality(String),
    project LowCardinality(String),
    run_id String,
    alert_id String,
    channel_id String,
    attempt UInt32,
    status LowCardinality(String),
    error String,
    timestamp Float64,
    epoch UInt32,
    publisher_id String,
    seq UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, alert_id, channel_id, attempt, status);
