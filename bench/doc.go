// Package bench holds the FHIR store benchmarks run by `make bench`: each
// prints its figure beside a PostgreSQL baseline measured in the same run
// (COPY of the same resource JSON into a plain table) on this machine.
//
// FHIRHUB_BENCH_OBSERVATIONS sets the size of the search data set
// (default 100000; the targets are stated for 1000000 as well).
package bench
