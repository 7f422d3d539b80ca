package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir/rest"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/service"
)

// BenchmarkAuth measures what bearer-token authentication with the
// scope/role decision, and then authentication plus the audit trail (an
// AuditEvent per request, written in batches by audit.Writer into the
// same database), add to read, search and batch latency (a batch Bundle
// of 20 reads: an AuditEvent per entry besides the Bundle's): the same requests on
// the search data set, in turn to the API without either (the baseline),
// with auth, and with auth and audit, over one store, in the same run.
func BenchmarkAuth(b *testing.B) {
	s := searchServer(b)
	v := validate.New()
	svc, err := service.New(service.Config{Store: s.store, Validator: v, Registry: search.NewRegistry(), BaseURL: s.base})
	if err != nil {
		b.Fatal(err)
	}
	iss, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: filepath.Join(b.TempDir(), "issuer.pem"), Audience: "fhirhub"})
	if err != nil {
		b.Fatal(err)
	}
	vc := auth.DefaultVerifierConfig()
	vc.Keys, vc.Issuer, vc.Audience = iss, iss.Name(), "fhirhub"
	verifier, err := auth.NewVerifier(vc)
	if err != nil {
		b.Fatal(err)
	}
	acfg := audit.DefaultConfig()
	acfg.Store, acfg.NewID = s.store, service.NewUUID
	writer, err := audit.New(acfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = writer.Close(context.Background()) })
	serveAPI := func(cfg rest.Config) string {
		srv := httptest.NewServer(nil)
		b.Cleanup(srv.Close)
		cfg.Service, cfg.BaseURL, cfg.ResourceTypes = svc, srv.URL+"/fhir", v.ResourceTypes()
		api, err := rest.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		srv.Config.Handler = api.Handler()
		return cfg.BaseURL
	}
	authBase := serveAPI(rest.Config{Auth: verifier})
	auditBase := serveAPI(rest.Config{Auth: verifier, Audit: writer})
	token, err := iss.Mint(auth.TokenRequest{Role: "doctor", Scope: "user/*.rs", TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	patients := max(searchN/20, 1)
	// A batch of 20 reads: with audit, 21 AuditEvents (the Bundle's and
	// one per entry).
	var entries []any
	for i := range 20 {
		entries = append(entries, map[string]any{"request": map[string]any{"method": "GET", "url": fmt.Sprintf("Patient/p%d", (i*7919)%patients)}})
	}
	batch, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "batch", "entry": entries})
	if err != nil {
		b.Fatal(err)
	}
	get := func(url, token string) time.Duration {
		method, body := http.MethodGet, io.Reader(nil)
		if strings.HasSuffix(url, "/fhir") { // a batch Bundle
			method, body = http.MethodPost, bytes.NewReader(batch)
		}
		req, _ := http.NewRequest(method, url, body)
		req.Header.Set("Content-Type", "application/fhir+json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		t0 := time.Now()
		res, err := s.client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		d := time.Since(t0)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", url, res.StatusCode)
		}
		return d
	}
	codes := []string{"2345-7", "718-7", "2160-0", "6690-2", "777-3", "2951-2"}
	for _, c := range []struct {
		name string
		path func(i int) string
	}{
		{"read", func(i int) string { return fmt.Sprintf("/Patient/p%d", (i*7919)%patients) }},
		{"search", func(i int) string { return "/Observation?code=http://loinc.org|" + codes[i%len(codes)] }},
		{"batch-of-20-reads", func(int) string { return "" }},
	} {
		b.Run(c.name, func(b *testing.B) {
			off := make([]time.Duration, 0, b.N)
			on := make([]time.Duration, 0, b.N)
			audited := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				off = append(off, get(s.base+c.path(i), ""))
				on = append(on, get(authBase+c.path(i), token))
				audited = append(audited, get(auditBase+c.path(i), token))
			}
			b.StopTimer()
			offP50, offP99 := percentiles(off)
			onP50, onP99 := percentiles(on)
			auP50, auP99 := percentiles(audited)
			b.ReportMetric(auP50, "p50-ms")
			b.ReportMetric(auP99, "p99-ms")
			report("%s without auth (baseline, same run): p50 %.2f ms, p99 %.2f ms", c.name, offP50, offP99)
			report("%s with auth: p50 %.2f ms, p99 %.2f ms; added p50 %+.0f%%, p99 %+.0f%%",
				c.name, onP50, onP99, 100*(onP50-offP50)/offP50, 100*(onP99-offP99)/offP99)
			report("%s with auth and audit: p50 %.2f ms, p99 %.2f ms; added p50 %+.0f%%, p99 %+.0f%% (target < 10%%)",
				c.name, auP50, auP99, 100*(auP50-offP50)/offP50, 100*(auP99-offP99)/offP99)
		})
	}
}
