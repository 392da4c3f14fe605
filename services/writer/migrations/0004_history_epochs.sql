-- Rewinds keep the rows they hide: a step logged again after a rewind is a
-- row of the new epoch beside the old one, so the epoch joins the sorting
-- key of `history` (ReplacingMergeTree would otherwise merge the two away).
-- ClickHouse cannot change a sorting key in place: copy, then swap names.
CREATE TABLE IF NOT EXISTS history_by_epoch AS history
ENGINE = ReplacingMergeTree(version)
ORDER BY (entity, project, run_id, key, step, epoch);

INSERT INTO history_by_epoch SELECT * FROM history;

RENAME TABLE history TO history_before_epochs, history_by_epoch TO history;

DROP TABLE history_before_epochs;
