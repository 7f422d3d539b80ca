package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/adapters/mllp"
	"github.com/fhirhub/fhirhub/pipelines/ingest"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store/postgres"
)

// kafkaBrokers returns the configured brokers, after creating the system
// topics there, or starts the embedded broker.
func kafkaBrokers(ctx context.Context, cfg *config, log *slog.Logger) ([]string, func(), error) {
	if cfg.KafkaBrokers != "" {
		brokers := strings.Split(cfg.KafkaBrokers, ",")
		kcfg := kafka.DefaultConfig()
		kcfg.Brokers, kcfg.Logger = brokers, log
		var specs []kafka.TopicSpec
		for _, t := range kafka.SystemTopics() {
			specs = append(specs, kafka.TopicSpec{Name: t, Partitions: cfg.KafkaPartitions})
		}
		if err := kafka.EnsureTopics(ctx, kcfg, specs...); err != nil {
			return nil, nil, fmt.Errorf("kafka: %w", err)
		}
		return brokers, func() {}, nil
	}
	e, err := kafka.StartEmbedded(ctx, kafka.EmbeddedConfig{Addr: cfg.KafkaEmbeddedAddr, Partitions: cfg.KafkaPartitions,
		Topics: kafka.SystemTopics(), DataDir: cfg.KafkaDataDir, Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("embedded kafka broker (set -kafka-brokers to use a cluster): %w", err)
	}
	log.Info("embedded Kafka-protocol broker", "brokers", strings.Join(e.Brokers(), ","))
	return e.Brokers(), func() { _ = e.Close() }, nil
}

// startMLLP starts the intake and the MLLP listener feeding it; nil
// server when the listener is disabled. With -ack=after-commit the intake
// processes each message through pipeline before answering. The returned
// stop closes the intake (call it after shutting the listener down).
func startMLLP(ctx context.Context, cfg *config, st *postgres.Store, producer *kafka.Producer, pipeline *ingest.Pipeline, log *slog.Logger) (*mllp.Server, func(), error) {
	icfg := intake.DefaultConfig()
	icfg.Store, icfg.Publisher, icfg.Logger, icfg.MaxMessageSize = st, producer, log, cfg.MLLPMaxMessage
	if cfg.Ack == ackAfterCommit {
		if pipeline == nil {
			return nil, nil, errors.New("mllp: -ack=after-commit needs the ingest pipeline")
		}
		ac := intake.DefaultAfterCommit()
		ac.Apply, ac.Permanent, ac.Fail, ac.Reason = pipeline.Apply, ingest.IsPermanent, pipeline.Fail, ingest.Reason
		icfg.AfterCommit = &ac
	}
	types, err := intake.ParseMessageTypes(cfg.HL7MessageTypes)
	if err != nil {
		return nil, nil, err
	}
	icfg.Policy.MessageTypes = types
	in, err := intake.New(icfg)
	if err != nil {
		return nil, nil, err
	}
	if err := in.Start(ctx); err != nil {
		return nil, nil, err
	}
	stop := func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := in.Close(cctx); err != nil {
			log.Warn("intake close", "err", err)
		}
	}
	if cfg.MLLPAddr == "" {
		return nil, stop, nil
	}
	mcfg := mllp.DefaultConfig()
	mcfg.Addr, mcfg.MaxMessageSize, mcfg.Logger = cfg.MLLPAddr, cfg.MLLPMaxMessage, log
	mcfg.IdleTimeout, mcfg.ReadTimeout = cfg.MLLPIdleTimeout, cfg.MLLPReadTimeout
	if mcfg.TLS, err = mllpTLS(cfg); err != nil {
		stop()
		return nil, nil, err
	}
	senders, err := mllpSenders(cfg)
	if err != nil {
		stop()
		return nil, nil, err
	}
	srv, err := mllp.NewServer(mcfg, mllp.HandlerFunc(func(ctx context.Context, m *mllp.Message) []byte {
		peer := ""
		if m.Conn.RemoteAddr != nil {
			peer = m.Conn.RemoteAddr.String()
		}
		src := intake.Source{Channel: "mllp", Peer: peer, FrameErr: m.Err, TooLarge: errors.Is(m.Err, mllp.ErrTooLarge)}
		if senders != nil {
			src.Sender = senders.Identify(m.Conn.PeerCertificates)
		}
		ack, _ := in.Receive(ctx, m.Data, src)
		return ack
	}))
	if err == nil {
		err = srv.Open(ctx)
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("mllp: %w", err)
	}
	log.Info("receiving HL7 v2 over MLLP", "addr", srv.Addr().String(), "tls", mcfg.TLS != nil)
	return srv, stop, nil
}

// mllpTLS returns the listener's TLS configuration, nil for plain TCP.
func mllpTLS(cfg *config) (*tls.Config, error) {
	if cfg.MLLPTLSCert == "" && cfg.MLLPTLSKey == "" {
		if cfg.MLLPTLSClientCA != "" {
			return nil, errors.New("mllp: -mllp-tls-client-ca needs -mllp-tls-cert and -mllp-tls-key")
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.MLLPTLSCert, cfg.MLLPTLSKey)
	if err != nil {
		return nil, fmt.Errorf("mllp: tls: %w", err)
	}
	t := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.MLLPTLSClientCA != "" {
		pem, err := os.ReadFile(cfg.MLLPTLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("mllp: tls: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("mllp: tls: no certificate in the client CA file")
		}
		t.ClientCAs, t.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return t, nil
}

// mllpSenders returns the sending systems of -mllp-tls-senders-file, nil
// when it is not set.
func mllpSenders(cfg *config) (*intake.Senders, error) {
	if cfg.MLLPTLSSenders == "" {
		return nil, nil
	}
	data, err := os.ReadFile(cfg.MLLPTLSSenders)
	if err != nil {
		return nil, fmt.Errorf("mllp: senders: %w", err)
	}
	s, err := intake.ParseSenders(data)
	if err != nil {
		return nil, fmt.Errorf("mllp: %w", err)
	}
	return s, nil
}

// startIngest runs the ingest pipeline: hl7v2.inbound -> FHIR. Messages
// first seen on the topic are stored by an intake of its own that does not
// publish (they are on the topic already). The returned stop waits for
// the message being processed.
func startIngest(ctx context.Context, cfg *config, st *postgres.Store, svc *service.Service, producer *kafka.Producer, brokers []string, log *slog.Logger) (*ingest.Pipeline, func(), error) {
	fcfg := intake.DefaultConfig()
	fcfg.Store, fcfg.Logger = st, log
	types, err := intake.ParseMessageTypes(cfg.HL7MessageTypes)
	if err != nil {
		return nil, nil, err
	}
	fcfg.Policy.MessageTypes = types
	firstSight, err := intake.New(fcfg)
	if err != nil {
		return nil, nil, err
	}
	if err := firstSight.Start(ctx); err != nil {
		return nil, nil, err
	}
	icfg := ingest.DefaultConfig()
	icfg.Messages, icfg.Receiver, icfg.Service, icfg.DLQ, icfg.Logger = st, firstSight, svc, producer, log
	icfg.Tenants = cfg.hl7Tenants
	icfg.Kafka = kafka.DefaultConfig()
	icfg.Kafka.Brokers, icfg.Kafka.Logger = brokers, log
	p, err := ingest.New(icfg)
	if err != nil {
		return nil, nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(runCtx); err != nil {
			log.Error("ingest pipeline stopped", "err", err)
		}
	}()
	return p, func() {
		cancel()
		<-done
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		_ = firstSight.Close(cctx)
	}, nil
}
