package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// replay implements `fhirhub replay`: it asks a running server to re-drive
// stored HL7 v2 messages (POST /admin/hl7v2/messages/$replay).
func replay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	server := fs.String("server", envOr("replay-server", "http://localhost:8080"), "base URL of the fhirhub server (env FHIRHUB_REPLAY_SERVER)")
	token := fs.String("token", os.Getenv("FHIRHUB_TOKEN"), "bearer token of the admin or integration role (env FHIRHUB_TOKEN; `fhirhub token -role admin`)")
	filters := map[string]*string{}
	for _, f := range []struct{ name, usage string }{
		{"status", "messages with this status: error, processed or received"},
		{"type", "message type (MSH-9.1), such as ORU"},
		{"trigger", "trigger event (MSH-9.2), such as R01"},
		{"sending-application", "sending application (MSH-3)"},
		{"sending-facility", "sending facility (MSH-4)"},
		{"patient", "patient identifier (PID-3.1)"},
		{"control-id", "message control id (MSH-10)"},
		{"since", "received at or after (2026-01-02 or 2026-01-02T15:04:05Z)"},
		{"before", "received before"},
	} {
		filters[f.name] = fs.String(f.name, "", f.usage)
	}
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: fhirhub replay [-server URL] [-token TOKEN] FILTER... (at least one filter)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	q := url.Values{}
	for name, v := range filters {
		if *v != "" {
			q.Set(name, *v)
		}
	}
	if len(q) == 0 {
		fs.Usage()
		return errors.New("replay: name the messages with at least one filter, such as -status error")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	u := strings.TrimSuffix(*server, "/") + "/admin/hl7v2/messages/$replay?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("replay: server answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Println(strings.TrimSpace(string(body)))
	return nil
}
