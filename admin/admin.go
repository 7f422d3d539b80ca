// Package admin is the operator HTTP API (JSON) under /admin: the HL7 v2
// message store, listed and filtered by status, type, sender, patient
// identifier, time range and control id, each message with its raw text.
//
//	GET /admin/hl7v2/messages?status=&type=&trigger=&sending-application=&sending-facility=
//	    &patient=&control-id=&since=&before=&count=&cursor=&raw=true
//	GET /admin/hl7v2/messages/{id}        one message, with its raw text
//	GET /admin/hl7v2/messages/{id}/raw    the message as received (x-application/hl7-v2+er7)
//	POST /admin/hl7v2/messages/$replay?<the list filters>   re-drive the messages selected
//
// Errors are OperationOutcome resources, as in the FHIR API. Responses
// hold patient data (raw messages, patient identifiers): the API is for
// operators only (with a Verifier: bearer tokens of the admin or
// integration role), and nothing of a message is logged.
package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/ratelimit"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
)

// Messages is the part of the message store the API reads.
type Messages interface {
	Message(ctx context.Context, id int64) (*store.HL7Message, error)
	Messages(ctx context.Context, q store.MessageQuery) (*store.MessagePage, error)
}

// Config configures the API.
type Config struct {
	// Messages is the HL7 v2 message store; required.
	Messages Messages
	// Replay re-drives the messages q selects and returns how many; nil
	// answers $replay with 501.
	Replay func(ctx context.Context, q store.MessageQuery) (int, error)
	// Auth verifies bearer tokens; every route then needs a token of an
	// operator role (auth.Principal.Operator). Nil serves everyone.
	Auth Verifier
	// Audit records an AuditEvent for every request (nil: none).
	Audit Auditor
	// RateLimit limits each client's requests by token subject, else by
	// address (nil: no limit); refusals are 429 with Retry-After and are
	// not audited.
	RateLimit Limiter
	Logger    *slog.Logger
}

// Verifier verifies bearer access tokens (auth.Verifier does).
type Verifier interface {
	// Verify returns the caller of token, or a fhir.Error with code login.
	Verify(ctx context.Context, token string) (*auth.Principal, error)
}

// API is the operator API.
type API struct {
	cfg Config
	log *slog.Logger
	r   *mux.Router
}

// New returns the API for cfg.
func New(cfg Config) (*API, error) {
	if cfg.Messages == nil {
		return nil, errors.New("admin: config: no Messages store")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: cfg, log: log, r: mux.NewRouter()}
	a.r.HandleFunc("/admin/hl7v2/messages", a.wrap(actionList, a.list)).Methods(http.MethodGet, http.MethodHead)
	a.r.HandleFunc("/admin/hl7v2/messages/$replay", a.wrap(actionReplay, a.replay)).Methods(http.MethodPost)
	a.r.HandleFunc("/admin/hl7v2/messages/{id:[0-9]+}", a.wrap(actionRead, a.get)).Methods(http.MethodGet, http.MethodHead)
	a.r.HandleFunc("/admin/hl7v2/messages/{id:[0-9]+}/raw", a.wrap(actionRead, a.raw)).Methods(http.MethodGet, http.MethodHead)
	a.r.NotFoundHandler = a.wrap(action{}, func(w http.ResponseWriter, r *http.Request) error {
		return fhir.Errorf(fhir.IssueNotFound, "no such admin endpoint")
	})
	a.r.MethodNotAllowedHandler = a.wrap(action{}, func(w http.ResponseWriter, r *http.Request) error {
		return &statusError{http.StatusMethodNotAllowed, fhir.Errorf(fhir.IssueNotSupported, "method not allowed")}
	})
	return a, nil
}

// Handler returns the HTTP handler of every /admin route.
func (a *API) Handler() http.Handler { return a.r }

type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// wrap turns a handler returning an error into one writing the error as
// an OperationOutcome; panics become 500 without internals. Requests of
// a named action are audited.
func (a *API) wrap(act action, h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reqID := requestID(w, r)
		var sw *audit.StatusRecorder
		if a.cfg.Audit != nil && act.operator != "" {
			sw = &audit.StatusRecorder{ResponseWriter: w}
			w = sw
		}
		var err error
		var p *auth.Principal
		func() {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					a.log.Error("panic serving admin request", "path", routeOf(r))
					err = errors.New("admin: panic")
				}
			}()
			p, err = a.authorize(w, r)
			if lerr := a.limit(w, r, p); lerr != nil {
				err = lerr
				return
			}
			if err == nil {
				err = h(w, r)
			}
		}()
		if sw != nil {
			defer func() {
				status := sw.Status
				if err != nil {
					status = statusOf(err)
				}
				if status == http.StatusTooManyRequests {
					return
				}
				a.record(r, act, p, reqID, status, err, w.Header().Get(replayedHeader))
			}()
		}
		if err == nil {
			return
		}
		status := statusOf(err)
		oo := service.OperationOutcome(err)
		if status >= 500 {
			a.log.Error("admin request failed", "path", routeOf(r), "status", status, "err", err.Error())
			oo = service.OperationOutcome(errors.New("internal error"))
		}
		w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(fhir.MarshalJSON(oo))
	}
}

// Limiter decides whether a client may make one more request
// (*ratelimit.Limiter does).
type Limiter interface {
	// Allow takes a token from key's bucket, or says how long until one.
	Allow(key string) (bool, time.Duration)
}

// limit takes a request from the bucket of the caller p (nil: of the
// client address): a throttled error with Retry-After when empty.
func (a *API) limit(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if a.cfg.RateLimit == nil {
		return nil
	}
	key := ratelimit.KeyForAddress(r)
	if p != nil {
		key = ratelimit.KeyForSubject(p.Subject)
	}
	if ok, wait := a.cfg.RateLimit.Allow(key); !ok {
		return ratelimit.Throttled(w, wait)
	}
	return nil
}

func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return service.Status(err)
}

// authorize lets through callers whose token has an operator role.
func (a *API) authorize(w http.ResponseWriter, r *http.Request) (*auth.Principal, error) {
	if a.cfg.Auth == nil {
		return nil, nil
	}
	token, ok := auth.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fhirhub"`)
		return nil, fhir.Errorf(fhir.IssueLogin, "the operator API needs an OAuth2 bearer token (Authorization: Bearer <token>)")
	}
	p, err := a.cfg.Auth.Verify(r.Context(), token)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fhirhub", error="invalid_token"`)
		return nil, err
	}
	if err := p.Operator(); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fhirhub", error="insufficient_scope"`)
		return p, err
	}
	return p, nil
}

func routeOf(r *http.Request) string {
	if route := mux.CurrentRoute(r); route != nil {
		if t, err := route.GetPathTemplate(); err == nil {
			return t
		}
	}
	return "unmatched"
}

func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(b)
	return err
}

// queryParams are the list filters, by query parameter name.
var queryParams = []string{"status", "type", "trigger", "sending-application", "sending-facility",
	"patient", "control-id", "since", "before", "count", "cursor", "raw"}

// query reads the list filters of r.
func query(r *http.Request) (store.MessageQuery, error) {
	v := r.URL.Query()
	for name := range v {
		if !known(name) {
			return store.MessageQuery{}, invalid(name, "unknown parameter")
		}
	}
	q := store.MessageQuery{
		Status: store.MessageStatus(v.Get("status")), Type: v.Get("type"), Trigger: v.Get("trigger"),
		SendingApp: v.Get("sending-application"), SendingFacility: v.Get("sending-facility"),
		PatientID: v.Get("patient"), ControlID: v.Get("control-id"), Cursor: v.Get("cursor"),
		WithRaw: v.Get("raw") == "true",
	}
	if q.Status != "" && !store.ValidMessageStatus(string(q.Status)) {
		return q, invalid("status", "status must be one of received, processed, error, rejected, duplicate, conflict")
	}
	var err error
	if q.Since, err = timeParam(v, "since"); err != nil {
		return q, err
	}
	if q.Before, err = timeParam(v, "before"); err != nil {
		return q, err
	}
	if c := v.Get("count"); c != "" {
		if q.Count, err = strconv.Atoi(c); err != nil || q.Count < 1 {
			return q, invalid("count", "count must be a positive integer")
		}
	}
	return q, nil
}

func (a *API) list(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	page, err := a.cfg.Messages.Messages(r.Context(), q)
	if err != nil {
		return err
	}
	out := listJSON{Messages: make([]messageJSON, 0, len(page.Messages))}
	for _, m := range page.Messages {
		out.Messages = append(out.Messages, toJSON(m, q.WithRaw))
	}
	if page.Next != "" {
		next := *r.URL
		nv := next.Query()
		nv.Set("cursor", page.Next)
		next.RawQuery = nv.Encode()
		out.Next = next.RequestURI()
	}
	return writeJSON(w, out)
}

// replay re-drives the messages the filters select (all of them: count
// and cursor do not apply); at least one filter is required.
func (a *API) replay(w http.ResponseWriter, r *http.Request) error {
	if a.cfg.Replay == nil {
		return &statusError{http.StatusNotImplemented, fhir.Errorf(fhir.IssueNotSupported, "replay is not available on this server")}
	}
	q, err := query(r)
	if err != nil {
		return err
	}
	if len(r.URL.Query()) == 0 {
		return invalid("status", "name the messages to replay with at least one filter (status=error, type=ORU ...)")
	}
	if q.Status != "" && !q.Status.Claims() {
		return invalid("status", string(q.Status)+" messages are never processed")
	}
	n, err := a.cfg.Replay(r.Context(), q)
	if err != nil {
		return err
	}
	a.log.Info("hl7 messages replayed", "count", n)
	w.Header().Set(replayedHeader, "HL7 v2 messages replayed: "+strconv.Itoa(n))
	return writeJSON(w, map[string]int{"replayed": n})
}

// replayedHeader tells how many messages a replay re-drove (and its
// AuditEvent's entity description says it).
const replayedHeader = "X-Fhirhub-Replayed"

func known(name string) bool {
	for _, p := range queryParams {
		if p == name {
			return true
		}
	}
	return false
}

func invalid(param, msg string) error {
	return &fhir.Error{Code: fhir.IssueInvalid, Message: param + ": " + msg, Expression: []string{param}}
}

// timeParam reads an RFC 3339 instant or a date (midnight UTC).
func timeParam(v url.Values, name string) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, invalid(name, "expected an instant (2026-01-02T15:04:05Z) or a date (2026-01-02)")
}

func (a *API) one(r *http.Request) (*store.HL7Message, error) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		return nil, invalid("id", "not a message id")
	}
	m, err := a.cfg.Messages.Message(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fhir.Errorf(fhir.IssueNotFound, "no message with this id")
	}
	return m, err
}

func (a *API) get(w http.ResponseWriter, r *http.Request) error {
	m, err := a.one(r)
	if err != nil {
		return err
	}
	return writeJSON(w, toJSON(m, true))
}

func (a *API) raw(w http.ResponseWriter, r *http.Request) error {
	m, err := a.one(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "x-application/hl7-v2+er7")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(m.Raw)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(m.Raw)
	}
	return nil
}

type listJSON struct {
	Messages []messageJSON `json:"messages"`
	Next     string        `json:"next,omitempty"`
}

type patientJSON struct {
	Value  string `json:"value"`
	System string `json:"system,omitempty"`
}

type messageJSON struct {
	ID                int64        `json:"id"`
	ReceivedAt        time.Time    `json:"receivedAt"`
	Status            string       `json:"status"`
	Channel           string       `json:"channel,omitempty"`
	Peer              string       `json:"peer,omitempty"`
	SendingApp        string       `json:"sendingApplication,omitempty"`
	SendingFacility   string       `json:"sendingFacility,omitempty"`
	ReceivingApp      string       `json:"receivingApplication,omitempty"`
	ReceivingFacility string       `json:"receivingFacility,omitempty"`
	ControlID         string       `json:"controlId,omitempty"`
	Type              string       `json:"messageType,omitempty"`
	Trigger           string       `json:"triggerEvent,omitempty"`
	Structure         string       `json:"structure,omitempty"`
	Version           string       `json:"version,omitempty"`
	Patient           *patientJSON `json:"patientIdentifier,omitempty"`
	AckCode           string       `json:"ackCode,omitempty"`
	Error             string       `json:"error,omitempty"`
	Attempts          int          `json:"attempts"`
	DuplicateOf       int64        `json:"duplicateOf,omitempty"`
	ProcessedAt       *time.Time   `json:"processedAt,omitempty"`
	Published         bool         `json:"published"`
	Resources         []string     `json:"resources,omitempty"`
	// Raw is the message text when it is valid UTF-8 (segments end with
	// CR), else RawBase64 holds its bytes.
	Raw       string `json:"raw,omitempty"`
	RawBase64 string `json:"rawBase64,omitempty"`
}

func toJSON(m *store.HL7Message, withRaw bool) messageJSON {
	j := messageJSON{
		ID: m.ID, ReceivedAt: m.ReceivedAt, Status: string(m.Status), Channel: m.Channel, Peer: m.Peer,
		SendingApp: m.SendingApp, SendingFacility: m.SendingFacility, ReceivingApp: m.ReceivingApp,
		ReceivingFacility: m.ReceivingFacility, ControlID: m.ControlID, Type: m.Type, Trigger: m.Trigger,
		Structure: m.Structure, Version: m.Version, AckCode: m.AckCode, Error: m.Error, Attempts: m.Attempts,
		DuplicateOf: m.DuplicateOf, Resources: m.Resources,
	}
	if m.PatientID != "" {
		j.Patient = &patientJSON{Value: m.PatientID, System: m.PatientIDSystem}
	}
	if !m.ProcessedAt.IsZero() {
		j.ProcessedAt = &m.ProcessedAt
	}
	j.Published = m.Published
	if withRaw {
		if utf8.Valid(m.Raw) {
			j.Raw = string(m.Raw)
		} else {
			j.RawBase64 = base64.StdEncoding.EncodeToString(m.Raw)
		}
	}
	return j
}
