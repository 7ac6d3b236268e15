package pdftest

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"fmt"
	"hash/adler32"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// Decompression bombs: small files whose streams inflate to far more than their size. Each is a
// valid one-page document from Make with an incremental update that adds the bomb, so a reader
// that does not count what it inflates accepts it.

// Allocated is how many bytes fn allocates: the process's TotalAlloc over the call, after a GC, so
// nothing else may run meanwhile. Refusing a bomb should cost a small multiple of its size.
func Allocated(fn func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// PeakHeap is the highest heap in use above what was in use before fn, sampled every millisecond
// while fn runs (garbage not yet collected included), after a GC.
func PeakHeap(fn func()) uint64 {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var m runtime.MemStats
		var high uint64
		for {
			runtime.ReadMemStats(&m)
			high = max(high, m.HeapAlloc)
			select {
			case <-stop:
				done <- high
				return
			default:
				time.Sleep(time.Millisecond)
			}
		}
	}()
	fn()
	close(stop)
	if high := <-done; high > base.HeapAlloc {
		return high - base.HeapAlloc
	}
	return 0
}

// Deflated returns prefix, spaces (which PDF and XML parsers skip) and suffix, n bytes in all,
// zlib-deflated at about a thousandth of n. The spaces are one deflate block of 64 KiB of spaces,
// made once and repeated: a block that refers only to bytes it produced itself decodes the same after
// any content, so a bomb of hundreds of megabytes costs what copying its few hundred kilobytes costs,
// even under the race detector. The Adler-32 checksum is combined arithmetically for the same reason.
func Deflated(t testing.TB, prefix, suffix []byte, n int) []byte {
	t.Helper()
	const chunk = 64 << 10
	spaces := max(0, n-len(prefix)-len(suffix))
	var out bytes.Buffer
	out.Write([]byte{0x78, 0xda}) // zlib header: deflate, 32 KiB window, best compression
	deflate := func(data []byte, final bool) {
		fw, err := flate.NewWriter(&out, flate.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
		if final {
			err = fw.Close()
		} else {
			err = fw.Flush() // ends byte-aligned, not final: the next block follows
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	deflate(prefix, false)
	sum := adler32.Checksum(prefix)
	block := bytes.Repeat([]byte{' '}, chunk)
	var one bytes.Buffer
	fw, _ := flate.NewWriter(&one, flate.BestCompression)
	fw.Write(block)
	fw.Flush()
	blockSum := adler32.Checksum(block)
	for range spaces / chunk {
		out.Write(one.Bytes())
		sum = adlerCombine(sum, blockSum, chunk)
	}
	tail := append(bytes.Repeat([]byte{' '}, spaces%chunk), suffix...)
	deflate(tail, true)
	sum = adlerCombine(sum, adler32.Checksum(tail), len(tail))
	out.Write([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
	return out.Bytes()
}

// adlerCombine is the Adler-32 of A followed by B from the checksums of A and B and B's length:
// a = a1 + a2 - 1 and b = b1 + b2 + len(B)·(a1 - 1), modulo 65521.
func adlerCombine(sumA, sumB uint32, lenB int) uint32 {
	const mod = 65521
	a1, b1 := uint64(sumA&0xffff), uint64(sumA>>16)
	a2, b2 := uint64(sumB&0xffff), uint64(sumB>>16)
	n := uint64(lenB) % mod
	a := (a1 + a2 + mod - 1) % mod
	b := (b1 + b2 + n*((a1+mod-1)%mod)) % mod
	return uint32(b<<16 | a)
}

var (
	startxrefRE = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	sizeRE      = regexp.MustCompile(`/Size (\d+)`)
)

// UpdateBase is the one-page document from Make that the bombs extend by an incremental update,
// with the offset of its last xref section (the update's /Prev) and its /Size (the first object
// number the update may use).
func UpdateBase(t testing.TB) (data []byte, prev, size int) {
	t.Helper()
	data = Make(t, 1, 0)
	m := startxrefRE.FindSubmatch(data)
	s := sizeRE.FindAllSubmatch(data, -1)
	if m == nil || s == nil {
		t.Fatal("pdftest.UpdateBase: no startxref or /Size")
	}
	prev, _ = strconv.Atoi(string(m[1]))
	size, _ = strconv.Atoi(string(s[len(s)-1][1]))
	return data, prev, size
}

// xrefEntry appends an xref stream entry with /W [1 4 2].
func xrefEntry(entries []byte, typ byte, a, b int) []byte {
	return append(entries, typ, byte(a>>24), byte(a>>16), byte(a>>8), byte(a), byte(b>>8), byte(b))
}

// ObjStmBomb returns a one-page document with streams object streams that each inflate to each
// bytes: one object apiece, a string padded out with spaces, added by an update with an xref stream
// (a hybrid file, as PDF 1.5 allows).
func ObjStmBomb(t testing.TB, streams, each int) []byte {
	t.Helper()
	// Objects first … first+2·streams-1: object stream i is first+2i, the object in it first+2i+1;
	// the xref stream comes last.
	out, prev, first := UpdateBase(t)
	var entries []byte
	for i := range streams {
		stm, obj := first+2*i, first+2*i+1
		prolog := fmt.Sprintf("%d 0 ", obj)
		content := Deflated(t, []byte(prolog+"("), []byte(")"), each)
		off := len(out)
		out = fmt.Appendf(out, "%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n", stm, len(prolog), len(content))
		out = append(out, content...)
		out = append(out, "\nendstream\nendobj\n"...)
		entries = xrefEntry(entries, 1, off, 0)
		entries = xrefEntry(entries, 2, stm, 0)
	}
	xrefNr := first + 2*streams
	xrefOff := len(out)
	entries = xrefEntry(entries, 1, xrefOff, 0)
	out = fmt.Appendf(out, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%d %d] /Root 1 0 R /Prev %d /Length %d >>\nstream\n",
		xrefNr, xrefNr+1, first, 2*streams+1, prev, len(entries))
	out = append(out, entries...)
	out = fmt.Appendf(out, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xrefOff)
	return out
}

// MetadataBomb returns a one-page document whose catalog's /Metadata is an XML stream inflating to
// size bytes (an XMP packet padded with spaces, as XMP allows).
func MetadataBomb(t testing.TB, size int) []byte {
	t.Helper()
	out, prev, nr := UpdateBase(t)
	xmp := `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF></x:xmpmeta>`
	content := Deflated(t, []byte(xmp), nil, size)
	metaOff := len(out)
	out = fmt.Appendf(out, "%d 0 obj\n<< /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length %d >>\nstream\n", nr, len(content))
	out = append(out, content...)
	out = append(out, "\nendstream\nendobj\n"...)
	catOff := len(out)
	out = fmt.Appendf(out, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Metadata %d 0 R >>\nendobj\n", nr)
	xref := len(out)
	out = fmt.Appendf(out, "xref\n0 2\n0000000000 65535 f \n%010d 00000 n \n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n",
		catOff, nr, metaOff, nr+1, prev, xref)
	return out
}

// ObjectFlood returns a one-page document with n tiny objects ("<< /A 1 >>") in one object stream,
// listed by a deflated xref stream: few decoded bytes per object, each of which a parser turns into
// a table entry and a dictionary.
func ObjectFlood(t testing.TB, n int) []byte {
	t.Helper()
	out, prev, stm := UpdateBase(t)
	var prolog, body bytes.Buffer
	for i := range n {
		fmt.Fprintf(&prolog, "%d %d ", stm+1+i, body.Len())
		body.WriteString("<</A 1>>")
	}
	content := Deflate(t, append(prolog.Bytes(), body.Bytes()...))
	stmOff := len(out)
	out = fmt.Appendf(out, "%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n", stm, n, prolog.Len(), len(content))
	out = append(out, content...)
	out = append(out, "\nendstream\nendobj\n"...)
	xrefNr := stm + 1 + n
	xrefOff := len(out)
	entries := xrefEntry(nil, 1, stmOff, 0)
	for i := range n {
		entries = xrefEntry(entries, 2, stm, i)
	}
	entries = xrefEntry(entries, 1, xrefOff, 0)
	ze := Deflate(t, entries)
	out = fmt.Appendf(out, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%d %d] /Root 1 0 R /Prev %d /Filter /FlateDecode /Length %d >>\nstream\n",
		xrefNr, xrefNr+1, stm, n+2, prev, len(ze))
	out = append(out, ze...)
	out = fmt.Appendf(out, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xrefOff)
	return out
}

// Deflate zlib-compresses data, fast: the best ratio's match search on repetitive tables costs
// seconds (tens under the race detector) and buys nothing in a test.
func Deflate(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ClassicObjectFlood returns a one-page document with n tiny objects ("<</A 1>>") added by an update
// with a classic xref table: nothing to decode, but a parser holds a table entry and a dictionary
// for each.
func ClassicObjectFlood(t testing.TB, n int) []byte {
	t.Helper()
	out, prev, first := UpdateBase(t)
	offs := make([]int, n)
	for i := range n {
		offs[i] = len(out)
		out = fmt.Appendf(out, "%d 0 obj\n<</A 1>>\nendobj\n", first+i)
	}
	xref := len(out)
	out = fmt.Appendf(out, "xref\n0 1\n0000000000 65535 f \n%d %d\n", first, n)
	for _, o := range offs {
		out = fmt.Appendf(out, "%010d 00000 n \n", o)
	}
	return fmt.Appendf(out, "trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", first+n, prev, xref)
}
