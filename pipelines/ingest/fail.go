package ingest

import (
	"context"
	"time"

	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/store"
)

// Fail records the permanent failure err of msg, found by a caller of
// Apply other than the pipeline (the --ack=after-commit MLLP mode): status
// error with Reason(err), and a copy on the DLQ with the error headers,
// as the pipeline does for its records. attempts and first are the
// attempts made and when the first failed.
func (p *Pipeline) Fail(ctx context.Context, msg *store.HL7Message, err error, attempts int, first time.Time) {
	rec := intake.RecordFor(p.cfg.Topic, msg)
	rec.Topic, rec.Partition, rec.Offset = "", -1, -1 // not from the topic
	p.fail(ctx, rec, &permanentError{msg.ID, err}, err, attempts, first)
}
