-- A quantity with its unit's system is found through the unit code's
-- hash, comparing the system-and-code hash beside it in the index, as
-- tokens are since 0008: one index entry fewer per quantity row.
CREATE INDEX idx_quantity_code_covering ON idx_quantity (h_code, lo, hi) INCLUDE (h_sys_code);
DROP INDEX idx_quantity_code;
ALTER INDEX idx_quantity_code_covering RENAME TO idx_quantity_code;
DROP INDEX idx_quantity_sys_code;
ANALYZE idx_quantity;
