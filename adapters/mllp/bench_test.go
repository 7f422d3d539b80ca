package mllp

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkRoundTrip measures messages acknowledged per second through
// Server and Client (a handler returning a fixed ACK), on 1 and 16
// connections, beside its baseline in the same run: the same bytes
// exchanged over loopback TCP by plain io.ReadFull and Write, with no
// framing, handler or client logic.
func BenchmarkRoundTrip(b *testing.B) {
	msg := testMessage("BENCH-1")
	ack := []byte("MSH|^~\\&|FHIRHUB|HOSP|SENDER|CLINIC|20250314154510||ACK^A01^ACK|ACK-1|P|2.5.1\rMSA|AA|BENCH-1\r")
	for _, conns := range []int{1, 16} {
		b.Run(fmt.Sprintf("baseline=tcp/conns=%d", conns), func(b *testing.B) {
			addr := rawEchoServer(b, len(frame(msg)), frame(ack))
			roundTrips(b, conns, func() func() error {
				nc, err := net.Dial("tcp", addr)
				require.NoError(b, err)
				b.Cleanup(func() { nc.Close() })
				out, in := frame(msg), make([]byte, len(frame(ack)))
				return func() error {
					if _, err := nc.Write(out); err != nil {
						return err
					}
					_, err := io.ReadFull(nc, in)
					return err
				}
			})
		})
		b.Run(fmt.Sprintf("mllp/conns=%d", conns), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Addr = "127.0.0.1:0"
			s := MustServe(b, cfg, HandlerFunc(func(context.Context, *Message) []byte { return ack }))
			roundTrips(b, conns, func() func() error {
				c := MustClient(b, s.Addr().String(), nil)
				return func() error {
					_, err := c.Send(context.Background(), msg)
					return err
				}
			})
		})
	}
}

// roundTrips runs b.N round trips spread over conns connections, each
// made by newConn, and reports msgs/s.
func roundTrips(b *testing.B, conns int, newConn func() func() error) {
	trips := make([]func() error, conns)
	for i := range trips {
		trips[i] = newConn()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for _, trip := range trips {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := trip(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// rawEchoServer answers every n bytes read with reply, on each connection.
func rawEchoServer(b *testing.B, n int, reply []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				buf := make([]byte, n)
				for {
					if _, err := io.ReadFull(nc, buf); err != nil {
						return
					}
					if _, err := nc.Write(reply); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}
