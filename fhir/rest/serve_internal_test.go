package rest

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A panic in a handler becomes a 500 OperationOutcome with the request id;
// the log has the stack and the route but nothing of the request.
func TestPanicBecomes500(t *testing.T) {
	var logs bytes.Buffer
	a := &API{cfg: Config{Timeout: time.Second}, log: slog.New(slog.NewTextHandler(&logs, nil)), start: time.Now()}
	srv := httptest.NewServer(a.serve(func(w http.ResponseWriter, r *http.Request) error {
		var m map[string]int
		m["crash"]++ // nil map write: a runtime panic
		return nil
	}))
	defer srv.Close()

	res, err := http.Post(srv.URL+"/Patient?name=Secret", "application/fhir+json", bytes.NewReader([]byte(`{"name":"Secret Person"}`)))
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Contains(t, string(body), `"resourceType":"OperationOutcome"`)
	assert.Contains(t, string(body), "request id "+res.Header.Get("X-Request-Id"))
	assert.NotContains(t, string(body), "nil map", "internals stay out of the response")
	assert.Contains(t, logs.String(), "panic serving request")
	assert.NotContains(t, logs.String(), "Secret", "no request content in logs")

	// The server keeps serving.
	res2, err := http.Get(srv.URL + "/again")
	require.NoError(t, err)
	res2.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, res2.StatusCode)
}
