package mllp_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/adapters/mllp"
)

// A receiver that acknowledges what it can read, and a sender.
func ExampleServer() {
	ctx := context.Background()
	cfg := mllp.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	srv, err := mllp.NewServer(cfg, mllp.HandlerFunc(func(ctx context.Context, m *mllp.Message) []byte {
		h, err := hl7v2.ParseHeader(m.Data)
		if err != nil {
			h = nil // BuildAck answers an unreadable MSH with default delimiters
		}
		d := hl7v2.Decide(h, err, hl7v2.DefaultPolicy())
		// ... store the message durably here, then acknowledge ...
		code, send := d.Ack(hl7v2.OutcomeAccepted)
		if !send {
			return nil
		}
		ack, _ := hl7v2.BuildAck(h, hl7v2.AckOptions{Code: code, Errors: d.Errors})
		return ack
	}))
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Open(ctx); err != nil {
		log.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()

	client, err := mllp.NewClient(mllp.DefaultClientConfig(srv.Addr().String()))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for _, msg := range []string{
		"MSH|^~\\&|LIS|LAB|FHIRHUB|HOSP|20250314154510||ORU^R01^ORU_R01|LAB-1|P|2.5.1\rPID|1||MRN-1\r",
		"MSH|^~\\&|LIS|LAB|FHIRHUB|HOSP|20250314154510||ORU^R01^ORU_R01|LAB-2|P|9.9\rPID|1||MRN-2\r",
	} {
		ack, err := client.Send(ctx, []byte(msg))
		if err != nil {
			log.Fatal(err)
		}
		m, _ := hl7v2.Parse(ack)
		msa := m.Segment("MSA", 1)
		fmt.Println(msa.Field(1).String(), msa.Field(2).String())
	}
	// Output:
	// AA LAB-1
	// AR LAB-2
}
