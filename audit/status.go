package audit

import "net/http"

// StatusRecorder is an http.ResponseWriter that remembers the status its
// handler wrote, for the outcome of the request's AuditEvent.
type StatusRecorder struct {
	http.ResponseWriter
	// Status is the status written: 0 until the handler writes, 200 when
	// it writes a body without a status.
	Status int
}

// WriteHeader implements http.ResponseWriter.
func (w *StatusRecorder) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *StatusRecorder) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
