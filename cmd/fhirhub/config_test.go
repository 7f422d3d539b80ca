package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestServeRefusesABadTenantMap: an -hl7-tenants value that is not
// FACILITY=tenant,... stops `fhirhub serve` before it starts anything,
// naming the flag.
func TestServeRefusesABadTenantMap(t *testing.T) {
	for _, bad := range []string{"HOSP", "HOSP=a/b", "HOSP=acme,HOSP=bravo"} {
		cmd := exec.Command(os.Args[0], "serve", "-hl7-tenants", bad, "-http-addr", "127.0.0.1:0", "-mllp-addr", "")
		cmd.Env = append(os.Environ(), "FHIRHUB_TEST_RUN_MAIN=1", "DATABASE_URL=postgres://127.0.0.1:1/none")
		out, err := cmd.CombinedOutput()
		assert.Error(t, err, bad)
		assert.Contains(t, string(out), "-hl7-tenants", bad)
	}
}
