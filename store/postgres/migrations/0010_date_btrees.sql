-- Date searches find their rows through idx_date_range (0002), whose
-- window condition every date clause carries (search_date.go), and sort
-- and :missing read rows by rid (idx_date_rid): the two btree indexes of
-- 0001 on (param, lo, hi) and (param, hi) serve no plan any more, and
-- cost two index entries per date row on every write.
DROP INDEX idx_date_lo;
DROP INDEX idx_date_hi;
