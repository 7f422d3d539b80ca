package bench

import (
	"testing"

	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// Benchmarks run against a server that commits durably, as production does.
func TestMain(m *testing.M) { pgtest.MainDurable(m) }
