package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/fhirhub/fhirhub/adapters/mllp"
)

// send implements `fhirhub send`: it reads every file first (a bad file
// sends nothing), then sends the messages in order over one MLLP
// connection and prints one line per acknowledgment.
func send(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: fhirhub send --to host:port [flags] FILE|DIR...")
		fmt.Fprintln(fs.Output(), "\nprints <file> <MSH-10> <MSA-1> <MSA-3> per message (tab-separated); exits 1 unless all are AA or CA\n\nflags:")
		fs.PrintDefaults()
	}
	to := fs.String("to", envOr("send-to", ""), "receiver address host:port (env FHIRHUB_SEND_TO)")
	timeout := fs.Duration("timeout", sendEnvDuration("send-timeout", 10*time.Second), "wait for each ACK (env FHIRHUB_SEND_TIMEOUT)")
	retries := fs.Int("retries", sendEnvInt("send-retries", 3), "resend attempts after a failure, on a new connection (env FHIRHUB_SEND_RETRIES)")
	useTLS := fs.Bool("tls", sendEnvBool("send-tls", false), "connect with TLS (env FHIRHUB_SEND_TLS)")
	ca := fs.String("ca", envOr("send-ca", ""), "PEM file of CA certificates to trust; implies --tls (env FHIRHUB_SEND_CA)")
	cert := fs.String("cert", envOr("send-cert", ""), "PEM client certificate for mutual TLS; implies --tls (env FHIRHUB_SEND_CERT)")
	key := fs.String("key", envOr("send-key", ""), "PEM key of --cert (env FHIRHUB_SEND_KEY)")
	insecure := fs.Bool("insecure-skip-verify", false, "do not verify the server certificate (testing only)")
	paths, err := parseSendArgs(fs, args)
	if err != nil {
		return err
	}
	if *to == "" || len(paths) == 0 {
		fs.Usage()
		return errors.New("send: --to and at least one FILE or DIR are required")
	}

	var msgs []mllp.FileMessage
	for _, p := range paths {
		m, err := mllp.ReadMessages(p, func(file string, err error) {
			fmt.Fprintf(os.Stderr, "skipped %s: no HL7 v2 message in it\n", file)
		})
		if err != nil {
			return err
		}
		msgs = append(msgs, m...)
	}

	cfg := mllp.DefaultClientConfig(*to)
	cfg.AckTimeout, cfg.Retries = *timeout, *retries
	cfg.Logger = (&config{LogLevel: "warn"}).logger(os.Stderr)
	if *useTLS || *ca != "" || *cert != "" || *insecure {
		if cfg.TLS, err = sendTLSConfig(*ca, *cert, *key, *insecure); err != nil {
			return err
		}
	}
	client, err := mllp.NewClient(cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	_, err = mllp.SendMessages(ctx, client, msgs, os.Stdout)
	return err
}

// parseSendArgs parses flags placed before, between or after the
// file arguments.
func parseSendArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest, args = append(rest, args[0]), args[1:]
	}
}

// sendTLSConfig builds the TLS configuration of `send` from PEM files.
func sendTLSConfig(caFile, certFile, keyFile string, insecure bool) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("send: --ca: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("send: --ca: no PEM certificate in %s", caFile)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("send: --cert and --key go together")
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("send: --cert/--key: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

func sendEnvDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(envOr(name, "")); err == nil {
		return d
	}
	return def
}

func sendEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(envOr(name, "")); err == nil {
		return n
	}
	return def
}

func sendEnvBool(name string, def bool) bool {
	if b, err := strconv.ParseBool(envOr(name, "")); err == nil {
		return b
	}
	return def
}
