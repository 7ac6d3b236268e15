package pdf_test

import (
	"context"
	"runtime"
	"testing"

	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

func TestFloodTmp(t *testing.T) {
	data := pdftest.ObjectFlood(t, 60000)
	u, err := pdf.Measure(context.Background(), data)
	t.Logf("size %d decoded %d err %v", len(data), u.Decoded, err)
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	_, err = pdf.Inspect(context.Background(), data)
	runtime.ReadMemStats(&b)
	t.Logf("inspect err %v totalalloc %d MB, heap after %d MB", err, (b.TotalAlloc-a.TotalAlloc)>>20, (b.HeapAlloc)>>20)
}
