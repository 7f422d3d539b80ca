package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fhirhub/fhirhub/pipelines/ingest"
)

// config is the effective configuration of `fhirhub serve` and `migrate`.
type config struct {
	DatabaseURL   string
	DataDir       string
	HTTPAddr      string
	BaseURL       string
	MaxBodyBytes  int64
	MaxCount      int
	MaxConns      int
	LogLevel      string
	LogFormat     string
	ShutdownGrace time.Duration

	// HL7 v2 over MLLP.
	MLLPAddr          string
	MLLPMaxMessage    int
	MLLPTLSCert       string
	MLLPTLSKey        string
	MLLPTLSClientCA   string
	MLLPTLSSenders    string
	HL7Tenants        string
	hl7Tenants        ingest.Tenants // parsed by check
	MLLPIdleTimeout   time.Duration
	MLLPReadTimeout   time.Duration
	HL7MessageTypes   string
	Ack               string
	KafkaBrokers      string
	KafkaEmbeddedAddr string
	KafkaDataDir      string
	KafkaPartitions   int

	// Authentication and authorisation.
	Auth         string
	AuthIssuer   string
	AuthJWKSURL  string
	AuthAudience string
	AuthKeyFile  string
	AuthClients  string
	AuthTokenTTL time.Duration

	// Audit trail.
	Audit              string
	AuditFlushInterval time.Duration

	// Limits and browser access.
	RateLimit   float64
	RateBurst   int
	CORSOrigins string
	// TrustedProxies lists the reverse proxies whose X-Forwarded-For is
	// believed (CIDR blocks, comma-separated).
	TrustedProxies string
	HTTPTLSCert    string
	HTTPTLSKey     string

	fs *flag.FlagSet
}

// flagSet defines the flags of cmd with FHIRHUB_<NAME> environment
// defaults (DATABASE_URL is read unprefixed too).
func flagSet(cmd string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	c.fs = fs
	str := func(p *string, name, def, usage string) {
		fs.StringVar(p, name, envOr(name, def), usage+" (env "+envName(name)+")")
	}
	str(&c.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL; empty starts a private server from the local installation")
	str(&c.DataDir, "data-dir", "./var/postgres", "data directory of the private PostgreSQL")
	str(&c.HTTPAddr, "http-addr", ":8080", "HTTP listen address")
	str(&c.BaseURL, "base-url", "", "public base URL of the FHIR API (default http://localhost:<port>/fhir)")
	str(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	str(&c.LogFormat, "log-format", "text", "log format: text or json")
	maxBody, _ := strconv.ParseInt(envOr("max-body-bytes", "16777216"), 10, 64)
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", maxBody, "largest accepted request body (env FHIRHUB_MAX_BODY_BYTES)")
	intVar(fs, &c.MaxCount, "search-max-count", 1000, "largest page of search and history results: a larger _count gets this many, with a next link")
	maxConns, _ := strconv.Atoi(envOr("max-conns", "20"))
	fs.IntVar(&c.MaxConns, "max-conns", maxConns, "PostgreSQL connection pool size (env FHIRHUB_MAX_CONNS)")
	grace, _ := time.ParseDuration(envOr("shutdown-grace", "15s"))
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", grace, "time to drain requests on shutdown (env FHIRHUB_SHUTDOWN_GRACE)")
	str(&c.MLLPAddr, "mllp-addr", ":2575", "HL7 v2 MLLP listen address; empty disables the listener")
	intVar(fs, &c.MLLPMaxMessage, "mllp-max-message-bytes", 4<<20, "largest HL7 v2 message accepted over MLLP")
	str(&c.MLLPTLSCert, "mllp-tls-cert", "", "PEM certificate of the MLLP listener; with -mllp-tls-key turns TLS on")
	str(&c.MLLPTLSKey, "mllp-tls-key", "", "PEM private key of the MLLP listener")
	str(&c.MLLPTLSClientCA, "mllp-tls-client-ca", "", "PEM CA bundle: MLLP clients must present a certificate it signed (mutual TLS)")
	str(&c.MLLPTLSSenders, "mllp-tls-senders-file", "", "JSON list of {certificate, sendingApplications, sendingFacilities}: with mutual TLS, the MSH-3/MSH-4 each client certificate (CN or SAN) may send as; other messages, and all from unlisted certificates, are answered AR")
	durVar(fs, &c.MLLPIdleTimeout, "mllp-idle-timeout", 10*time.Minute, "MLLP connections idle this long are closed")
	durVar(fs, &c.MLLPReadTimeout, "mllp-read-timeout", 60*time.Second, "time to receive one MLLP frame once it has started")
	str(&c.HL7Tenants, "hl7-tenants", "", "tenant of each HL7 v2 sending facility (MSH-4 namespace id or whole value), as FACILITY=tenant,...; * matches any other; messages of unmapped facilities fail (status error); empty writes every message to the default tenant")
	str(&c.HL7MessageTypes, "hl7-message-types", "ADT,ORU^R01,ORM^O01,OMI^O23", "HL7 v2 message types accepted (TYPE or TYPE^TRIGGER, comma-separated; * for all); others are answered AR")
	str(&c.Ack, "ack", ackAfterStore, "when MLLP messages are acknowledged: after-store (once stored durably) or after-commit (once mapped and committed to FHIR: AE with the reason when they cannot be)")
	str(&c.KafkaBrokers, "kafka-brokers", os.Getenv("KAFKA_BROKERS"), "Kafka bootstrap brokers (comma-separated); empty starts an embedded broker")
	str(&c.KafkaEmbeddedAddr, "kafka-embedded-addr", "127.0.0.1:9092", "listen address of the embedded Kafka-protocol broker (port 0: any free port)")
	str(&c.KafkaDataDir, "kafka-data-dir", "./var/kafka", "where the embedded broker keeps its topics across restarts; empty keeps them in memory")
	intVar(fs, &c.KafkaPartitions, "kafka-partitions", 6, "partitions of topics fhirhub creates")
	authFlags(fs, c)
	str(&c.Audit, "audit", auditOn, "on: an AuditEvent for every FHIR and /admin request (not /metadata, discovery or health), written in batches; off: none")
	floatVar(fs, &c.RateLimit, "rate-limit", 1000, "requests per second each client (token subject, else IP address) may sustain on /fhir, /admin and /auth/token; 0: no limit")
	intVar(fs, &c.RateBurst, "rate-burst", 2000, "requests a client may send at once before -rate-limit applies")
	str(&c.TrustedProxies, "trusted-proxies", "", "reverse proxies (CIDR blocks or addresses, comma-separated) whose X-Forwarded-For gives the client address for audit and rate limits; empty: none, the header is ignored")
	str(&c.CORSOrigins, "cors-origins", "", "origins (scheme://host[:port], comma-separated; * for any) whose browser apps may call the API (CORS); empty: none")
	str(&c.HTTPTLSCert, "http-tls-cert", "", "PEM certificate of the HTTP listener; with -http-tls-key serves HTTPS (and Strict-Transport-Security)")
	str(&c.HTTPTLSKey, "http-tls-key", "", "PEM private key of the HTTP listener")
	durVar(fs, &c.AuditFlushInterval, "audit-flush-interval", 200*time.Millisecond, "longest time an AuditEvent waits for its batch to be written (all are written at shutdown)")
	return fs
}

// authFlags defines the flags shared by serve and token.
func authFlags(fs *flag.FlagSet, c *config) {
	str := func(p *string, name, def, usage string) {
		fs.StringVar(p, name, envOr(name, def), usage+" (env "+envName(name)+")")
	}
	str(&c.Auth, "auth", authOn, "on: every FHIR and admin request needs a bearer token; off: no authentication at all (development only)")
	str(&c.AuthIssuer, "auth-issuer", "", "iss of an external OAuth2 issuer; its keys come from -auth-jwks-url or its OpenID discovery document. Empty with no -auth-jwks-url: the embedded issuer")
	str(&c.AuthJWKSURL, "auth-jwks-url", "", "JWK Set URL of the external issuer (RS256/ES256 keys)")
	str(&c.AuthAudience, "auth-audience", "fhirhub", "aud that tokens must carry")
	str(&c.AuthKeyFile, "auth-key-file", "./var/auth/issuer-es256.pem", "ES256 private key of the embedded issuer (created, mode 0600, when missing)")
	str(&c.AuthClients, "auth-clients-file", "", "JSON list of backend services ({id, secretSha256, role, scope}) that may get tokens from the embedded issuer's client-credentials endpoint /auth/token; empty: no token endpoint")
	durVar(fs, &c.AuthTokenTTL, "auth-admin-token-ttl", 12*time.Hour, "lifetime of the admin token the embedded issuer prints at start")
}

// Values of -auth.
const (
	authOn  = "on"
	authOff = "off"
)

// Values of -audit.
const (
	auditOn  = "on"
	auditOff = "off"
)

// Values of -ack.
const (
	ackAfterStore  = "after-store"
	ackAfterCommit = "after-commit"
)

// check reports the first invalid setting.
func (c *config) check() error {
	if c.Ack != ackAfterStore && c.Ack != ackAfterCommit {
		return fmt.Errorf("-ack %q: want %s or %s", c.Ack, ackAfterStore, ackAfterCommit)
	}
	if c.Auth != authOn && c.Auth != authOff {
		return fmt.Errorf("-auth %q: want %s or %s", c.Auth, authOn, authOff)
	}
	if c.Audit != auditOn && c.Audit != auditOff {
		return fmt.Errorf("-audit %q: want %s or %s", c.Audit, auditOn, auditOff)
	}
	if c.HL7Tenants != "" {
		t, err := ingest.ParseTenants(c.HL7Tenants)
		if err != nil {
			return fmt.Errorf("-hl7-tenants: %w", err)
		}
		c.hl7Tenants = t
	}
	if c.MLLPTLSSenders != "" && c.MLLPTLSClientCA == "" {
		return fmt.Errorf("-mllp-tls-senders-file needs mutual TLS (-mllp-tls-client-ca): senders are identified by their certificates")
	}
	if (c.HTTPTLSCert == "") != (c.HTTPTLSKey == "") {
		return fmt.Errorf("-http-tls-cert and -http-tls-key go together")
	}
	if c.RateLimit < 0 || (c.RateLimit > 0 && c.RateBurst < 1) {
		return fmt.Errorf("-rate-limit %g, -rate-burst %d: want a rate of 0 (no limit) or more, and a burst of 1 or more", c.RateLimit, c.RateBurst)
	}
	if c.AuthJWKSURL != "" && c.AuthIssuer == "" {
		return fmt.Errorf("-auth-jwks-url needs -auth-issuer: the iss its tokens carry")
	}
	if c.AuthClients != "" && (c.AuthIssuer != "" || c.AuthJWKSURL != "") {
		return fmt.Errorf("-auth-clients-file serves the embedded issuer's token endpoint: it cannot be used with an external -auth-issuer")
	}
	return nil
}

func intVar(fs *flag.FlagSet, p *int, name string, def int, usage string) {
	v := def
	if s, ok := os.LookupEnv(envName(name)); ok {
		if n, err := strconv.Atoi(s); err == nil {
			v = n
		}
	}
	fs.IntVar(p, name, v, usage+" (env "+envName(name)+")")
}

func floatVar(fs *flag.FlagSet, p *float64, name string, def float64, usage string) {
	v := def
	if s, ok := os.LookupEnv(envName(name)); ok {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			v = f
		}
	}
	fs.Float64Var(p, name, v, usage+" (env "+envName(name)+")")
}

func durVar(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	v := def
	if s, ok := os.LookupEnv(envName(name)); ok {
		if d, err := time.ParseDuration(s); err == nil {
			v = d
		}
	}
	fs.DurationVar(p, name, v, usage+" (env "+envName(name)+")")
}

func envName(flagName string) string {
	return "FHIRHUB_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func envOr(flagName, def string) string {
	if v, ok := os.LookupEnv(envName(flagName)); ok {
		return v
	}
	return def
}

func (c *config) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// print writes the effective configuration, every flag with its value,
// secrets masked.
func (c *config) print(w io.Writer, extra map[string]string) {
	vals := map[string]string{}
	c.fs.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		switch {
		case f.Name == "database-url":
			v = maskURL(v)
		case strings.Contains(f.Name, "key") && v != "":
			v = "(set)"
		}
		vals[f.Name] = v
	})
	for k, v := range extra {
		vals[k] = v
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "fhirhub configuration:")
	for _, k := range keys {
		fmt.Fprintf(w, "  %-24s %s\n", k, vals[k])
	}
}

// maskURL hides the password of a connection URL.
func maskURL(s string) string {
	if s == "" {
		return "(embedded)"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(set, unparsable)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
