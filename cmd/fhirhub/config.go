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
)

// config is the effective configuration of `fhirhub serve` and `migrate`.
type config struct {
	DatabaseURL   string
	DataDir       string
	HTTPAddr      string
	BaseURL       string
	MaxBodyBytes  int64
	MaxConns      int
	LogLevel      string
	LogFormat     string
	ShutdownGrace time.Duration
}

// flagSet defines the flags of cmd with FHIRHUB_<NAME> environment
// defaults (DATABASE_URL is read unprefixed too).
func flagSet(cmd string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
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
	maxConns, _ := strconv.Atoi(envOr("max-conns", "20"))
	fs.IntVar(&c.MaxConns, "max-conns", maxConns, "PostgreSQL connection pool size (env FHIRHUB_MAX_CONNS)")
	grace, _ := time.ParseDuration(envOr("shutdown-grace", "15s"))
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", grace, "time to drain requests on shutdown (env FHIRHUB_SHUTDOWN_GRACE)")
	return fs
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

// print writes the effective configuration, secrets masked.
func (c *config) print(w io.Writer, extra map[string]string) {
	vals := map[string]string{
		"database-url":   maskURL(c.DatabaseURL),
		"data-dir":       c.DataDir,
		"http-addr":      c.HTTPAddr,
		"base-url":       c.BaseURL,
		"max-body-bytes": strconv.FormatInt(c.MaxBodyBytes, 10),
		"max-conns":      strconv.Itoa(c.MaxConns),
		"log-level":      c.LogLevel,
		"log-format":     c.LogFormat,
		"shutdown-grace": c.ShutdownGrace.String(),
	}
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
		fmt.Fprintf(w, "  %-16s %s\n", k, vals[k])
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
