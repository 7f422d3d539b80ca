package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir/rest"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/service"
)

// BenchmarkAuth measures what bearer-token authentication and the
// scope/role decision add to read and search latency: the same requests
// on the search data set, alternately to the API without a Verifier (the
// baseline) and to an API over the same store with one (ES256 tokens of
// the embedded issuer), in the same run.
func BenchmarkAuth(b *testing.B) {
	s := searchServer(b)
	srv := httptest.NewServer(nil)
	b.Cleanup(srv.Close)
	base := srv.URL + "/fhir"
	v := validate.New()
	svc, err := service.New(service.Config{Store: s.store, Validator: v, Registry: search.NewRegistry(), BaseURL: base})
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
	api, err := rest.New(rest.Config{Service: svc, BaseURL: base, ResourceTypes: v.ResourceTypes(), Auth: verifier})
	if err != nil {
		b.Fatal(err)
	}
	srv.Config.Handler = api.Handler()
	token, err := iss.Mint(auth.TokenRequest{Role: "doctor", Scope: "user/*.rs", TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	get := func(url, token string) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
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
	patients := max(searchN/20, 1)
	codes := []string{"2345-7", "718-7", "2160-0", "6690-2", "777-3", "2951-2"}
	for _, c := range []struct {
		name string
		path func(i int) string
	}{
		{"read", func(i int) string { return fmt.Sprintf("/Patient/p%d", (i*7919)%patients) }},
		{"search", func(i int) string { return "/Observation?code=http://loinc.org|" + codes[i%len(codes)] }},
	} {
		b.Run(c.name, func(b *testing.B) {
			off := make([]time.Duration, 0, b.N)
			on := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				off = append(off, get(s.base+c.path(i), ""))
				on = append(on, get(base+c.path(i), token))
			}
			b.StopTimer()
			offP50, offP99 := percentiles(off)
			onP50, onP99 := percentiles(on)
			b.ReportMetric(onP50, "p50-ms")
			b.ReportMetric(onP99, "p99-ms")
			report("%s with auth: p50 %.2f ms, p99 %.2f ms; without (baseline, same run): p50 %.2f ms, p99 %.2f ms; added p50 %+.0f%% (target < 10%%)",
				c.name, onP50, onP99, offP50, offP99, 100*(onP50-offP50)/offP50)
		})
	}
}
