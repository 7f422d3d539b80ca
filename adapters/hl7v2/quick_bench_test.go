package hl7v2

import "testing"

func BenchmarkQuick(b *testing.B) {
	msgs, _ := corpus(b)
	var data [][]byte
	total := 0
	for _, c := range msgs {
		data = append(data, normalizeTerminators(c.data))
		total += len(c.data)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range data {
			if _, err := Parse(d); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(data))/b.Elapsed().Seconds(), "msgs/s")
	b.Logf("%d msgs, %d bytes", len(data), total)
}
