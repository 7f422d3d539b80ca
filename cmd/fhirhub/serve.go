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
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/admin"
	"github.com/fhirhub/fhirhub/fhir/googlefhir"
	"github.com/fhirhub/fhirhub/fhir/rest"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/pipelines/changes"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
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
	if err := cfg.check(); err != nil {
		return err
	}
	log := cfg.logger(os.Stderr)
	limiter, err := rateLimiter(&cfg)
	if err != nil {
		return err
	}
	policy, err := httpPolicy(&cfg)
	if err != nil {
		return err
	}
	proxies, err := trustedProxies(&cfg)
	if err != nil {
		return err
	}
	// Components are stopped in the reverse order of their start.
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	stops = append(stops, func() { ln.Close() })
	if cfg.BaseURL == "" {
		scheme := "http"
		if cfg.HTTPTLSCert != "" {
			scheme = "https"
		}
		cfg.BaseURL = scheme + "://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/fhir"
	}
	url, stopDB, err := database(ctx, &cfg, log)
	if err != nil {
		return err
	}
	stops = append(stops, stopDB)

	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	_, err = postgres.Migrate(ctx, pool, log)
	pool.Close()
	if err != nil {
		return err
	}

	registry := search.NewRegistry()
	st, err := postgres.Open(ctx, postgres.Config{URL: url, MaxConns: int32(cfg.MaxConns), MaxCount: cfg.MaxCount, Extractor: registry, Logger: log, BaseURL: cfg.BaseURL})
	if err != nil {
		return err
	}
	stops = append(stops, st.Close)
	validator := validate.New()
	svc, err := service.New(service.Config{Store: st, Validator: validator, Registry: registry, BaseURL: cfg.BaseURL, Logger: log})
	if err != nil {
		return err
	}
	if n, err := svc.LoadSearchParameters(ctx); err != nil {
		log.Warn("some stored SearchParameters could not be registered", "registered", n, "err", err)
	} else if n > 0 {
		log.Info("registered stored SearchParameters", "count", n)
	}
	authn, err := setupAuth(ctx, &cfg, log)
	if err != nil {
		return err
	}
	auditor, stopAudit, err := startAudit(&cfg, st, log)
	if err != nil {
		return err
	}
	// Stopped after the HTTP server has drained, before the store closes:
	// every answered request's AuditEvent is written.
	stops = append(stops, stopAudit)
	rcfg := rest.Config{
		Service: svc, BaseURL: cfg.BaseURL, ResourceTypes: validator.ResourceTypes(),
		Reference: googlefhir.Validate, MaxBodyBytes: cfg.MaxBodyBytes, Logger: log, Version: version,
		SMART: authn.smart, CORS: cfg.CORSOrigins != "",
	}
	if authn.verifier != nil {
		rcfg.Auth = authn.verifier
	}
	if auditor != nil {
		rcfg.Audit = auditor
	}
	if limiter != nil {
		rcfg.RateLimit = limiter
	}
	api, err := rest.New(rcfg)
	if err != nil {
		return err
	}

	brokers, stopKafka, err := kafkaBrokers(ctx, &cfg, log)
	if err != nil {
		return err
	}
	stops = append(stops, stopKafka)
	kcfg := kafka.DefaultConfig()
	kcfg.Brokers, kcfg.Logger = brokers, log
	producer, err := kafka.NewProducer(kcfg)
	if err != nil {
		return err
	}
	stops = append(stops, func() { _ = producer.Close() })

	acfg := admin.Config{Messages: st, Logger: log,
		Replay: func(ctx context.Context, q store.MessageQuery) (int, error) {
			return intake.Replay(ctx, st, producer, kafka.TopicHL7Inbound, q)
		}}
	if authn.verifier != nil {
		acfg.Auth = authn.verifier
	}
	if auditor != nil {
		acfg.Audit = auditor
	}
	if limiter != nil {
		acfg.RateLimit = limiter
	}
	adminAPI, err := admin.New(acfg)
	if err != nil {
		return err
	}

	ocfg := changes.DefaultConfig()
	ocfg.Feed, ocfg.Publisher, ocfg.Logger = st, producer, log
	ocfg.EnsureTopic = func(ctx context.Context, topic string) error {
		return kafka.EnsureTopics(ctx, kcfg, kafka.TopicSpec{Name: topic, Partitions: cfg.KafkaPartitions})
	}
	outbox, err := changes.New(ocfg)
	if err != nil {
		return err
	}
	outboxCtx, stopOutbox := context.WithCancel(context.WithoutCancel(ctx))
	outboxDone := make(chan struct{})
	go func() { defer close(outboxDone); _ = outbox.Run(outboxCtx) }()
	stops = append(stops, func() { stopOutbox(); <-outboxDone })

	pipeline, stopIngest, err := startIngest(ctx, &cfg, st, svc, producer, brokers, log)
	if err != nil {
		return err
	}
	stops = append(stops, stopIngest)

	mllpServer, stopIntake, err := startMLLP(ctx, &cfg, st, producer, pipeline, log)
	if err != nil {
		return err
	}
	stops = append(stops, stopIntake)

	mux := http.NewServeMux()
	mux.Handle("/fhir/", api.Handler())
	mux.Handle("/fhir", api.Handler())
	mux.Handle("/admin/", adminAPI.Handler())
	if authn.issuer != nil {
		jwks := authn.issuer.JWKS()
		mux.HandleFunc(jwksPath, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jwk-set+json")
			w.Write(jwks)
		})
	}
	if authn.token != nil {
		var h http.Handler = authn.token
		if limiter != nil {
			h = limiter.Middleware(h)
		}
		mux.Handle(tokenPath, h)
	}
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
	srv := &http.Server{Handler: policy.Handler(proxies.Handler(mux)), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}

	extra := map[string]string{"database": maskURL(url), "schema-version": strconv.Itoa(postgres.SchemaVersion()),
		"kafka": strings.Join(brokers, ",")}
	if mllpServer != nil {
		extra["mllp"] = mllpServer.Addr().String()
	}
	extra["auth"] = authSummary(&cfg, authn)
	if auditor == nil {
		extra["audit"] = "OFF"
	}
	cfg.print(os.Stderr, extra)
	if err := authn.printAdminToken(cfg.AuthTokenTTL); err != nil {
		return err
	}
	log.Info("serving FHIR API", "url", cfg.BaseURL)
	errc := make(chan error, 1)
	go func() {
		if cfg.HTTPTLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.HTTPTLSCert, cfg.HTTPTLSKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	// MLLP first, so that every frame being read is stored and answered;
	// the deferred stops then close the intake (flushing its publishes),
	// the producer, the broker and the database.
	if mllpServer != nil {
		if err := mllpServer.Shutdown(sctx); err != nil {
			log.Warn("mllp shutdown", "err", err)
		}
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("http shutdown", "err", err)
	}
	return nil
}

func authSummary(cfg *config, a *authSetup) string {
	switch {
	case a.verifier == nil:
		return "OFF (development only)"
	case a.issuer != nil:
		return "embedded issuer, key " + cfg.AuthKeyFile
	}
	return "issuer " + cfg.AuthIssuer + ", keys " + a.smart.JWKSURI
}
