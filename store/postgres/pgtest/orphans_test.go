package pgtest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPostmasterPID(t *testing.T) {
	assert.Equal(t, os.Getppid(), parentPID(os.Getpid()))
	assert.Equal(t, -1, parentPID(1<<22+12345), "no such process")

	dir := t.TempDir()
	file := filepath.Join(dir, "postmaster.pid")
	assert.Zero(t, postmasterPID(file), "no file")
	require.NoError(t, os.WriteFile(file, []byte(strconv.Itoa(os.Getpid())+"\n/tmp/data\n"), 0o600))
	assert.Equal(t, os.Getpid(), postmasterPID(file), "a running process")
	require.NoError(t, os.WriteFile(file, []byte(strconv.Itoa(1<<22+12345)+"\n"), 0o600))
	assert.Zero(t, postmasterPID(file), "a process that is gone")
}
