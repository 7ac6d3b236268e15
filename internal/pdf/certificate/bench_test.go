package certificate_test

import (
	"context"
	"testing"

	"esign/internal/pdf/certificate"
)

// BenchmarkRender renders a typical certificate and one at the signatory bound; bytes/pdf is the
// output's size (ns/op is the time of one rendering).
func BenchmarkRender(b *testing.B) {
	for _, tc := range []struct {
		name                string
		signatories, events int
	}{
		{"10_signatories_x_20_events", 10, 20},
		{"1000_signatories_x_5_events", 1000, 5},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := sample("DA_DK", tc.signatories, tc.events)
			var size int
			for b.Loop() {
				data, err := certificate.Render(context.Background(), c)
				if err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.ReportMetric(float64(size), "bytes/pdf")
		})
	}
}
