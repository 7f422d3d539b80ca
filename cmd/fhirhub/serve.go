package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fhirhub/fhirhub/fhir/googlefhir"
	"github.com/fhirhub/fhirhub/fhir/rest"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store/postgres"
)

// database returns the database URL to use: the configured one, or that
// of a private PostgreSQL started in cfg.DataDir (stop it when done).
func database(ctx context.Context, cfg *config, log *slog.Logger) (url string, stop func(), err error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, func() {}, nil
	}
	local, err := postgres.StartLocal(ctx, postgres.LocalConfig{Dir: cfg.DataDir, Logger: log})
	if err != nil {
		return "", nil, err
	}
	return local.URL(), func() { _ = local.Stop() }, nil
}

func migrate(ctx context.Context, args []string) error {
	var cfg config
	if err := flagSet("migrate", &cfg).Parse(args); err != nil {
		return err
	}
	log := cfg.logger(os.Stderr)
	url, stop, err := database(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := postgres.Migrate(ctx, pool, log)
	if err != nil {
		return err
	}
	fmt.Printf("applied %d migration(s); schema at %d\n", n, postgres.SchemaVersion())
	return nil
}

func serve(ctx context.Context, args []string) error {
	var cfg config
	if err := flagSet("serve", &cfg).Parse(args); err != nil {
		return err
	}
	log := cfg.logger(os.Stderr)

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/fhir"
	}
	url, stopDB, err := database(ctx, &cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopDB()

	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		ln.Close()
		return err
	}
	if _, err := postgres.Migrate(ctx, pool, log); err != nil {
		pool.Close()
		ln.Close()
		return err
	}
	pool.Close()

	registry := search.NewRegistry()
	st, err := postgres.Open(ctx, postgres.Config{URL: url, MaxConns: int32(cfg.MaxConns), Extractor: registry, Logger: log, BaseURL: cfg.BaseURL})
	if err != nil {
		ln.Close()
		return err
	}
	defer st.Close()
	validator := validate.New()
	svc, err := service.New(service.Config{Store: st, Validator: validator, Registry: registry, BaseURL: cfg.BaseURL, Logger: log})
	if err != nil {
		ln.Close()
		return err
	}
	if n, err := svc.LoadSearchParameters(ctx); err != nil {
		log.Warn("some stored SearchParameters could not be registered", "registered", n, "err", err)
	} else if n > 0 {
		log.Info("registered stored SearchParameters", "count", n)
	}
	api, err := rest.New(rest.Config{
		Service: svc, BaseURL: cfg.BaseURL, ResourceTypes: validator.ResourceTypes(),
		Reference: googlefhir.Validate, MaxBodyBytes: cfg.MaxBodyBytes, Logger: log, Version: version,
	})
	if err != nil {
		ln.Close()
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/fhir/", api.Handler())
	mux.Handle("/fhir", api.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Pool().Ping(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}

	cfg.print(os.Stderr, map[string]string{"database": maskURL(url), "schema-version": strconv.Itoa(postgres.SchemaVersion())})
	log.Info("serving FHIR API", "url", cfg.BaseURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("http shutdown", "err", err)
	}
	return nil
}
