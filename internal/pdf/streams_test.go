package pdf_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/fault"
	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

// bombBuilders make the bombs; bomb builds each once (deflating hundreds of megabytes of filler
// takes a moment).
var bombBuilders = map[string]func(t testing.TB) []byte{
	// 3 × 64 MiB of object streams in a file of about 200 KB.
	"object streams": func(t testing.TB) []byte { return pdftest.ObjStmBomb(t, 3, 64<<20) },
	// A catalog /Metadata XML stream of 128 MiB.
	"metadata": func(t testing.TB) []byte { return pdftest.MetadataBomb(t, 128<<20) },
	// One object stream of 20 MiB in a 30 KB file: one stream is enough when the file is small.
	"one stream over the floor": func(t testing.TB) []byte { return pdftest.ObjStmBomb(t, 1, 20<<20) },
	// A /Length that claims 400 MB with 10 bytes behind it: pdfcpu allocated it up front.
	"lying length": func(t testing.TB) []byte { return withStream(t, "<< /Length 400000000 >>", []byte("0123456789")) },
	// The catalog's /Metadata with a predictor of absurd rows: pdfcpu allocated two rows before
	// decoding a byte.
	"predictor rows": func(t testing.TB) []byte {
		return asMetadata(t, "<< /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 200000000 >> /Length %d >>", pdftest.Deflated(t, nil, nil, 100))
	},
	// The catalog's /Metadata deflated twice: every stage is counted, as pdfcpu buffers every stage.
	"flate in flate": func(t testing.TB) []byte {
		return asMetadata(t, "<< /Filter [/FlateDecode /FlateDecode] /Length %d >>", pdftest.Deflate(t, pdftest.Deflated(t, nil, nil, 200<<20)))
	},
	// Hex after flate: the hex decoder reads through a buffer, which must not take the meter's
	// refusal for the end of its input.
	"hex after flate": func(t testing.TB) []byte {
		return asMetadata(t, "<< /Filter [/FlateDecode /ASCIIHexDecode] /Length %d >>", pdftest.Deflated(t, nil, nil, 200<<20))
	},
	// 300,000 tiny objects in one object stream: few bytes to decode, a lot to hold (pdfcpu spends
	// about 870 bytes on each).
	"object flood": func(t testing.TB) []byte { return pdftest.ObjectFlood(t, 300_000) },
	// An image is not counted, except where pdfcpu decodes it anyway: at an xref offset.
	"image as the xref stream": func(t testing.TB) []byte { return imageAsXRef(t, 200<<20) },
	// The catalog's /Metadata with its filter given by reference.
	"indirect filter": func(t testing.TB) []byte {
		return asMetadata(t, "<< /Filter 97 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n97 0 obj\n/FlateDecode\nendobj\n", pdftest.Deflated(t, nil, nil, 100<<20))
	},
}

var bombCache sync.Map

func bomb(t testing.TB, name string) []byte {
	t.Helper()
	if v, ok := bombCache.Load(name); ok {
		return v.([]byte)
	}
	data := bombBuilders[name](t)
	bombCache.Store(name, data)
	return data
}

func TestInspectRefusesBombs(t *testing.T) {
	for name := range bombBuilders {
		t.Run(name, func(t *testing.T) {
			data := bomb(t, name)
			var err error
			alloc := pdftest.Allocated(func() { _, err = pdf.Inspect(context.Background(), data) })
			var p *pdf.Problem
			if !errors.As(err, &p) || !strings.HasPrefix(p.Reason, "expands to more than ") || p.Fixable {
				t.Fatalf("Inspect(%d-byte bomb) = %v, want the not fixable \"expands to more than …\" problem", len(data), err)
			}
			// What was allocated is a small multiple of the file, not of what it inflates to.
			if alloc > uint64(8<<20+4*len(data)) {
				t.Errorf("Inspect allocated %d MB to refuse a %d KB bomb", alloc>>20, len(data)>>10)
			}
		})
	}
}

// TestInspectMessage: the reason reads after "Document <title>" and states the rule.
func TestInspectMessage(t *testing.T) {
	data := bomb(t, "object streams")
	_, err := pdf.Inspect(context.Background(), data)
	limit := (pdf.DecodeLimit(len(data)) + 1<<20 - 1) >> 20
	want := fmt.Sprintf("expands to more than %d MB when its compressed parts are unpacked: at most 32 times its size (or 16 MB for a small document) is accepted", limit)
	if err == nil || err.Error() != want {
		t.Fatalf("Inspect = %v, want %q", err, want)
	}
}

// TestInspectAcceptsUnderBudget: below the limit nothing changes, and images, which pdfcpu does not
// decode here, are not counted at all.
func TestInspectAcceptsUnderBudget(t *testing.T) {
	for name, data := range map[string][]byte{
		"object stream under the floor": pdftest.ObjStmBomb(t, 1, 8<<20),
		"large deflated image":          withStream(t, "<< /Type /XObject /Subtype /Image /Width 10000 /Height 10000 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>", pdftest.Deflated(t, nil, nil, 300<<20)),
	} {
		t.Run(name, func(t *testing.T) {
			info, err := pdf.Inspect(context.Background(), data)
			if err != nil {
				t.Fatalf("Inspect: %v (cause %v)", err, errors.Unwrap(err))
			}
			if info.Pages != 1 {
				t.Fatalf("Inspect = %+v", info)
			}
		})
	}
}

func TestMeasureCountsEveryStage(t *testing.T) {
	inner := pdftest.Deflated(t, nil, nil, 1<<20)
	data := withStream(t, "<< /Filter [/ASCIIHexDecode /FlateDecode] /Length %d >>", []byte(fmt.Sprintf("%x>", inner)))
	u, err := pdf.Measure(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	// The hex stage yields the deflated bytes, the flate stage 1 MiB; the raw bytes are counted too.
	if min := int64(1<<20 + len(inner)); u.Decoded < min || u.Decoded > min+int64(len(data)) {
		t.Fatalf("Decoded = %d, want about %d", u.Decoded, min)
	}
}

// TestEstimateCountsObjects: a file of many tiny objects, which pdfcpu holds kilobytes each for,
// reserves accordingly although it decodes nothing.
func TestEstimateCountsObjects(t *testing.T) {
	data := pdftest.ClassicObjectFlood(t, 100_000)
	u, err := pdf.Measure(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if u.Objects < 100_000 || pdf.Estimate(len(data), u) < 250<<20 {
		t.Fatalf("Measure = %+v, Estimate %d MB for %d KB of 100,000 objects; want at least 250 MB", u, pdf.Estimate(len(data), u)>>20, len(data)>>10)
	}
}

func TestAdmission(t *testing.T) {
	ctx := context.Background()
	a := pdf.NewAdmission(pdf.AdmissionConfig{Budget: 100, Wait: 50 * time.Millisecond})
	first, err := a.Reserve(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	// The second does not fit beside the first: it waits, then is refused as busy.
	_, err = a.Reserve(ctx, 60)
	if !errors.Is(err, pdf.ErrBusy) {
		t.Fatalf("second Reserve = %v, want ErrBusy", err)
	}
	if e, ok := fault.As(err); !ok || e.Code != fault.CodeUnavailable || !strings.Contains(e.Message, "busy") {
		t.Fatalf("second Reserve = %#v, want an UNAVAILABLE order error saying the server is busy", err)
	}
	// A cancelled caller gets its own error, not busy.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.Reserve(cctx, 60); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reserve with a cancelled ctx = %v", err)
	}
	// A waiting reservation goes ahead as soon as the first is released.
	long := pdf.NewAdmission(pdf.AdmissionConfig{Budget: 100, Wait: time.Hour})
	held, _ := long.Reserve(ctx, 60)
	got := make(chan error, 1)
	go func() {
		release, err := long.Reserve(ctx, 60)
		if err == nil {
			release()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the second reservation did not wait: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	held()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// More than the whole budget runs alone rather than never.
	first()
	all, err := a.Reserve(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Reserve(ctx, 1); !errors.Is(err, pdf.ErrBusy) {
		t.Fatalf("Reserve beside an operation holding the whole budget = %v", err)
	}
	all()
}

// TestInspectorAdmits: N+1 parallel intakes of documents whose estimates fill the budget N times
// over do not run at once; the one that finds no room in time is refused as busy.
func TestInspectorAdmits(t *testing.T) {
	doc := pdftest.Make(t, 1, 1<<20)
	u, err := pdf.Measure(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	one := pdf.Estimate(len(doc), u)
	a := pdf.NewAdmission(pdf.AdmissionConfig{Budget: 2 * one, Wait: 10 * time.Millisecond})
	// Two operations hold the budget …
	r1, _ := a.Reserve(context.Background(), one)
	r2, _ := a.Reserve(context.Background(), one)
	// … so a third intake is refused as busy, and runs once they are done.
	in := pdf.Inspector{Admission: a}
	if _, err := in.Inspect(context.Background(), doc); !errors.Is(err, pdf.ErrBusy) {
		t.Fatalf("Inspect with the budget in use = %v, want ErrBusy", err)
	}
	r1()
	r2()
	if _, err := in.Inspect(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkMeasure is the pre-pass alone on the documents of BenchmarkInspect.
func BenchmarkMeasure(b *testing.B) {
	for _, bc := range []struct {
		name  string
		pages int
		size  int
	}{{"1MB-1page", 1, 1 << 20}, {"20MB-1page", 1, 20 << 20}, {"20MB-2000pages", 2000, 20 << 20}} {
		data := pdftest.Make(b, bc.pages, bc.size)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pdf.Measure(context.Background(), data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPeakHeap reports the peak heap of Inspect, sampled, per document byte (what
// pdf.PeakMultiple must cover), and of refusing a bomb.
func BenchmarkPeakHeap(b *testing.B) {
	for name, data := range map[string][]byte{
		"20MB-2000pages":          pdftest.Make(b, 2000, 20<<20),
		"bomb":                    bomb(b, "object streams"),
		"classic-flood-100k-objs": pdftest.ClassicObjectFlood(b, 100_000),
	} {
		b.Run(name, func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				peak = max(peak, pdftest.PeakHeap(func() { _, _ = pdf.Inspect(context.Background(), data) }))
			}
			u, _ := pdf.Measure(context.Background(), data)
			b.ReportMetric(float64(pdf.Estimate(len(data), u))/(1<<20), "reserved-MB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
			b.ReportMetric(float64(peak)/float64(len(data)), "peak/size")
		})
	}
}

// withStream appends to a one-page document an update adding one unreferenced stream object with
// dict (a format with one %d for the data's length, or none) and data. A dict that contains
// "stream" is the whole object after its header, with a %s for the data.
func withStream(t testing.TB, dict string, data []byte) []byte {
	t.Helper()
	return addStream(t, dict, data, false)
}

// asMetadata is withStream with the stream made the catalog's /Metadata (which pdfcpu decodes when
// it validates).
func asMetadata(t testing.TB, dict string, data []byte) []byte {
	t.Helper()
	return addStream(t, dict, data, true)
}

func addStream(t testing.TB, dict string, data []byte, metadata bool) []byte {
	t.Helper()
	out, prev, _ := pdftest.UpdateBase(t)
	var obj []byte
	switch {
	case strings.Contains(dict, "stream"):
		obj = fmt.Appendf(nil, "98 0 obj\n"+dict, len(data), data)
	case strings.Contains(dict, "%d"):
		obj = fmt.Appendf(nil, "98 0 obj\n"+dict+"\nstream\n%s\nendstream\nendobj\n", len(data), data)
	default:
		obj = fmt.Appendf(nil, "98 0 obj\n"+dict+"\nstream\n%s\nendstream\nendobj\n", data)
	}
	off := len(out)
	out = append(out, obj...)
	section := fmt.Sprintf("98 1\n%010d 00000 n \n", off)
	if metadata {
		cat := len(out)
		out = append(out, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Metadata 98 0 R >>\nendobj\n"...)
		section = fmt.Sprintf("1 1\n%010d 00000 n \n", cat) + section
	}
	xref := len(out)
	out = fmt.Appendf(out, "xref\n0 1\n0000000000 65535 f \n%strailer\n<< /Size 100 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", section, prev, xref)
	return out
}

// imageAsXRef is a document whose last xref section is a stream that calls itself an image and
// inflates to size bytes: pdfcpu decodes it as the xref stream it is placed as.
func imageAsXRef(t testing.TB, size int) []byte {
	t.Helper()
	out, prev, _ := pdftest.UpdateBase(t)
	content := pdftest.Deflated(t, nil, nil, size)
	off := len(out)
	out = fmt.Appendf(out, "99 0 obj\n<< /Subtype /Image /Width 1 /Height 1 /Filter /FlateDecode /Size 100 /W [1 4 2] /Root 1 0 R /Prev %d /Length %d >>\nstream\n", prev, len(content))
	out = append(out, content...)
	out = fmt.Appendf(out, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", off)
	return out
}
