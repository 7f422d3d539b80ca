package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
)

// checkAccept refuses requests that only accept formats we do not produce
// (406). FHIR JSON, plain JSON and wildcards are fine; _format overrides.
func checkAccept(r *http.Request) error {
	if f := r.URL.Query().Get("_format"); f != "" {
		switch f {
		case "json", "application/json", "application/fhir+json", "application/json+fhir":
			return nil
		}
		return &httpError{status: http.StatusNotAcceptable, err: fhir.Errorf(fhir.IssueNotSupported, "_format %q is not supported; use json", f)}
	}
	accept := r.Header.Get("Accept")
	if accept == "" {
		return nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/fhir+json", "application/json", "application/json+fhir", "text/json":
			return nil
		}
	}
	return &httpError{status: http.StatusNotAcceptable, err: fhir.Errorf(fhir.IssueNotSupported, "only application/fhir+json is produced")}
}

// readBody reads a request body of one of the wanted media types, bounded
// by the configured limit (413 beyond it, 415 for another type).
func (a *API) readBody(w http.ResponseWriter, r *http.Request, wanted ...string) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || !slices.Contains(wanted, mt) {
		return nil, &httpError{status: http.StatusUnsupportedMediaType,
			err: fhir.Errorf(fhir.IssueNotSupported, "Content-Type must be %s", strings.Join(wanted, " or "))}
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes), r.ContentLength, a.cfg.MaxBodyBytes)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, &httpError{status: http.StatusRequestEntityTooLarge,
			err: fhir.Errorf(fhir.IssueTooLong, "the request body is larger than %d bytes", a.cfg.MaxBodyBytes)}
	}
	if err != nil {
		return nil, fhir.Errorf(fhir.IssueStructure, "cannot read the request body").Wrap(err)
	}
	return body, nil
}

// readAll is io.ReadAll into a buffer sized by the request's
// Content-Length (when given and within max), so that a body is read
// without growing and copying its buffer.
func readAll(r io.Reader, length, max int64) ([]byte, error) {
	if length <= 0 || length > max {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, length+1) // +1: the read that sees EOF
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) { // longer than announced
			rest, err := io.ReadAll(r)
			return append(buf, rest...), err
		}
	}
}

var fhirJSON = []string{"application/fhir+json", "application/json", "application/json+fhir"}

// readResource reads and parses a FHIR JSON resource body.
func (a *API) readResource(w http.ResponseWriter, r *http.Request) (fhir.Object, error) {
	body, err := a.readBody(w, r, fhirJSON...)
	if err != nil {
		return nil, err
	}
	return fhir.ParseObject(body)
}

// prefer is the parsed Prefer header (RFC 7240; FHIR http.html#prefer).
type prefer struct {
	ret    string // minimal, representation, OperationOutcome
	strict bool   // handling=strict
}

func parsePrefer(r *http.Request) prefer {
	var p prefer
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			for _, kv := range strings.Split(part, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
				v = strings.Trim(v, `"`)
				switch strings.ToLower(k) {
				case "return":
					p.ret = v
				case "handling":
					p.strict = v == "strict"
				}
			}
		}
	}
	return p
}

func pretty(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return b
	}
	return out.Bytes()
}
