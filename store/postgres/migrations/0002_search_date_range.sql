-- A GiST index on the range each date index row covers, so that date
-- searches (which compare ranges: search.html#date) can find the rows
-- overlapping a window on both ends at once, and so that ANALYZE keeps
-- range statistics on it: with btree indexes alone the planner takes
-- "lo < b" and "hi > a" as independent and overestimates a month's window
-- by orders of magnitude. least/greatest keep an inverted range (end
-- before start in the resource) from failing the write. The search SQL
-- repeats this expression exactly (store/postgres/search_date.go).
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE INDEX idx_date_range ON idx_date USING gist (param, tstzrange(least(lo, hi), greatest(lo, hi), '[]'));
