package pades

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// increment collects the objects of one incremental update: new ones numbered above everything in
// the file, and rewritten existing ones (same number and generation).
type increment struct {
	d       *document
	next    int
	bodies  map[int]string
	offsets map[int]int
}

func (d *document) increment() *increment {
	return &increment{d: d, next: *d.xref.Size, bodies: map[int]string{}, offsets: map[int]int{}}
}

func (inc *increment) newObject() int {
	n := inc.next
	inc.next++
	return n
}

func (inc *increment) set(nr int, body string) { inc.bodies[nr] = body }

func (inc *increment) generation(nr int) int {
	if e, ok := inc.d.xref.Table[nr]; ok && e != nil && e.Generation != nil && nr < *inc.d.xref.Size {
		return *e.Generation
	}
	return 0
}

// write appends the objects and a cross-reference section of the kind the file already uses (a
// stream after a stream, a table after a table) whose /Prev points at the previous one.
func (inc *increment) write() ([]byte, error) {
	size := len(inc.d.data) + 4096 + 2*contentsSize
	for _, b := range inc.bodies {
		size += len(b) + 32
	}
	buf := make([]byte, 0, size)
	buf = append(buf, inc.d.data...)
	if len(buf) > 0 && buf[len(buf)-1] != '\n' {
		buf = append(buf, '\n')
	}
	var nrs []int
	for nr := range inc.bodies {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	for _, nr := range nrs {
		inc.offsets[nr] = len(buf)
		buf = fmt.Appendf(buf, "%d %d obj\n%s\nendobj\n", nr, inc.generation(nr), inc.bodies[nr])
	}
	trailer := inc.trailerEntries()
	if inc.d.xrefType {
		xrefNr := inc.newObject()
		nrs = append(nrs, xrefNr)
		inc.offsets[xrefNr] = len(buf)
		var data bytes.Buffer
		for _, nr := range nrs {
			var e [7]byte
			e[0] = 1
			binary.BigEndian.PutUint32(e[1:5], uint32(inc.offsets[nr]))
			binary.BigEndian.PutUint16(e[5:7], uint16(inc.generation(nr)))
			data.Write(e[:])
		}
		buf = fmt.Appendf(buf, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%s] %s /Length %d >>\nstream\n",
			xrefNr, inc.next, subsections(nrs), trailer, data.Len())
		buf = append(buf, data.Bytes()...)
		buf = fmt.Appendf(buf, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", inc.offsets[xrefNr])
		return buf, nil
	}
	xrefAt := len(buf)
	buf = append(buf, "xref\n"...)
	for _, run := range runs(nrs) {
		buf = fmt.Appendf(buf, "%d %d\n", run[0], len(run))
		for _, nr := range run {
			buf = fmt.Appendf(buf, "%010d %05d n\r\n", inc.offsets[nr], inc.generation(nr))
		}
	}
	buf = fmt.Appendf(buf, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", inc.next, trailer, xrefAt)
	return buf, nil
}

func (inc *increment) trailerEntries() string {
	x := inc.d.xref
	parts := []string{"/Root " + x.Root.PDFString(), fmt.Sprintf("/Prev %d", inc.d.prev)}
	if x.Info != nil {
		parts = append(parts, "/Info "+x.Info.PDFString())
	}
	if len(x.ID) > 0 {
		parts = append(parts, "/ID "+x.ID.PDFString())
	}
	return strings.Join(parts, " ")
}

// runs splits sorted object numbers into consecutive runs.
func runs(nrs []int) [][]int {
	var out [][]int
	for _, nr := range nrs {
		if n := len(out); n > 0 && out[n-1][len(out[n-1])-1] == nr-1 {
			out[n-1] = append(out[n-1], nr)
			continue
		}
		out = append(out, []int{nr})
	}
	return out
}

func subsections(nrs []int) string {
	var parts []string
	for _, run := range runs(nrs) {
		parts = append(parts, fmt.Sprintf("%d %d", run[0], len(run)))
	}
	return strings.Join(parts, " ")
}
