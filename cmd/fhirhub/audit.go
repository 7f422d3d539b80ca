package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store/postgres"
)

// startAudit returns the audit Writer of -audit=on (nil when off) and
// the function that writes what is pending and stops it, within
// -shutdown-grace.
func startAudit(cfg *config, st *postgres.Store, log *slog.Logger) (*audit.Writer, func(), error) {
	if cfg.Audit == auditOff {
		log.Warn("audit is OFF: no AuditEvent is recorded (-audit=off)")
		return nil, func() {}, nil
	}
	host, _ := os.Hostname()
	acfg := audit.DefaultConfig()
	acfg.Store, acfg.NewID, acfg.Logger = st, service.NewUUID, log
	acfg.FlushInterval = cfg.AuditFlushInterval
	acfg.Observer = audit.Observer{Site: host, Name: "fhirhub", URL: cfg.BaseURL}
	w, err := audit.New(acfg)
	if err != nil {
		return nil, nil, err
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			log.Error("audit: shutdown", "err", err)
		}
	}
	return w, stop, nil
}
