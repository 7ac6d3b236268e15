package pdf

import (
	"bufio"
	"bytes"
	"compress/lzw"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"iter"
	"slices"
	"sort"
	"strconv"

	tifflzw "golang.org/x/image/tiff/lzw"
)

// The decode budget. pdfcpu keeps every stream it decodes in memory (object streams and xref
// streams when it reads a file, the catalog's /Metadata when it validates one) and caps each stream
// at 512 MiB on its own, so the cost of a file adds up per stream: a 1 MB upload can hold gigabytes.
// Before pdfcpu sees a document, checkStreams inflates its streams into a counter, without keeping
// the output, and refuses the document once the total passes DecodeLimit. What it counts also
// sizes the operation's reservation in the process-wide budget (see Admission).
const (
	// DecodeMultiple is how many times its own size a document may expand to. Text, fonts and
	// object streams deflate by 3 to 10 times; 32 leaves room for unusual but honest files.
	DecodeMultiple = 32
	// DecodeFloor is the budget of small documents, whose ratio can be high without costing much.
	DecodeFloor = 16 << 20
)

// DecodeLimit is how many bytes a document of size bytes may decode in total.
func DecodeLimit(size int) int64 { return max(DecodeFloor, DecodeMultiple*int64(size)) }

// errOverBudget ends the pre-pass when the running total passes the limit.
var errOverBudget = errors.New("decode budget exceeded")

// errTooComplex ends the pre-pass when parsing the dictionaries alone costs more than a few passes
// over the file (objects nested inside each other's strings, which honest files never do).
var errTooComplex = errors.New("object syntax too complex to check")

// Usage is what the pre-pass counted.
type Usage struct {
	// Decoded is every byte the filters of the streams pdfcpu may decode produce, each stage of a
	// filter chain counted (pdfcpu buffers each one), plus the buffers predictors and image
	// decoders allocate, plus the raw bytes every stream's /Length makes pdfcpu allocate; the
	// bytes of xref streams count xrefWeight times, for the objects they list. The pixels of
	// images, which pdfcpu never decodes on these paths, are not counted.
	Decoded int64
	// Objects is how many object headers ("N G obj") the file has. pdfcpu holds kilobytes for
	// each whatever its size (BenchmarkPeakHeap's object flood), so they count in Estimate.
	Objects int
}

// meter is the running total against the limit.
type meter struct {
	used, limit int64
}

func (m *meter) add(n int64) error {
	m.used += n
	if m.used > m.limit {
		return errOverBudget
	}
	return nil
}

// countingReader charges what passes through it.
type countingReader struct {
	r      io.Reader
	m      *meter
	weight int64 // what a byte costs; 0 counts nothing (the stage below counted it already)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 && c.weight > 0 {
		if merr := c.m.add(c.weight * int64(n)); merr != nil {
			return n, merr
		}
	}
	return n, err
}

// stream is one "N G obj << … >> stream" found in the file, with the entries of its dictionary
// that decide what decoding it costs (kept alone: a file can hold hundreds of thousands of streams).
type stream struct {
	objPos                int // offset of the object's number
	data                  int // offset of the first data byte
	length, filter, parms *value
	// image: the dictionary says /Subtype /Image and no /Type other than /XObject.
	image bool
	// xref: the dictionary says /Type /XRef (or the stream sits where an xref section is due).
	xref bool
}

// xrefWeight is what one decoded byte of an xref stream costs: each entry of 5 to 7 bytes becomes
// an entry of pdfcpu's table and, for compressed objects, a parsed object beside it, about 870
// bytes together (measured with pdftest.ObjectFlood). Counting xref bytes at this weight bounds the
// object count, which costs far more than the bytes that describe it.
const xrefWeight = 128

// checkStreams is the pre-pass. It does not trust the cross-reference table (pdfcpu repairs broken
// ones by scanning, so it can find objects the table does not list): every "N G obj" in the file is
// looked at, and every stream among them whose data pdfcpu might decode is decoded here, through
// readers that hold a few tens of kilobytes whatever the stream's size.
func checkStreams(ctx context.Context, data []byte, limit int64) (Usage, error) {
	m := &meter{limit: limit}
	p := &parser{data: data, work: 4*int64(len(data)) + 1<<20}
	objs := map[int]int{} // object number → offset after "obj", last definition wins as in an update
	var streams []stream
	objects := 0
	xrefOffsets := map[int]bool{}
	for at := range occurrences(data, "obj") {
		i := at + len("obj")
		if i < len(data) && !isDelimOrSpace(data[i]) {
			continue
		}
		nr, start, ok := objectHeader(data, at)
		if !ok {
			continue
		}
		objs[nr] = i
		objects++
		pos := skipSpace(data, i)
		if !bytes.HasPrefix(data[pos:], []byte("<<")) {
			continue
		}
		p.pos = pos
		v, err := p.value(0)
		if errors.Is(err, errTooComplex) {
			return Usage{}, err
		}
		if err != nil || v.kind != kindDict {
			continue
		}
		noteXRefOffsets(v, xrefOffsets)
		after := skipSpace(data, p.pos)
		if !bytes.HasPrefix(data[after:], []byte("stream")) {
			continue
		}
		d := after + len("stream")
		if bytes.HasPrefix(data[d:], []byte("\r\n")) {
			d += 2
		} else if d < len(data) && (data[d] == '\n' || data[d] == '\r') {
			d++
		}
		typ := v.get("Type")
		streams = append(streams, stream{objPos: start, data: d,
			length: v.get("Length"), filter: v.get("Filter"), parms: v.get("DecodeParms"),
			image: v.get("Subtype").isName("Image") && (typ.kind == kindNone || typ.isName("XObject")),
			xref:  typ.isName("XRef")})
	}
	// Classic trailers point to earlier sections and to the xref streams of hybrid files.
	for at := range occurrences(data, "trailer") {
		p.pos = skipSpace(data, at+len("trailer"))
		if v, err := p.value(0); err == nil && v.kind == kindDict {
			noteXRefOffsets(v, xrefOffsets)
		} else if errors.Is(err, errTooComplex) {
			return Usage{}, err
		}
	}
	for at := range occurrences(data, "startxref") {
		if n, ok := leadingInt(data[skipSpace(data, at+len("startxref")):]); ok {
			xrefOffsets[n] = true
		}
	}
	// pdfcpu decodes whatever object starts at an xref offset as an xref stream, whatever its
	// dictionary says, so those streams are never skipped as images, and weigh as xref streams.
	// Offsets count from the header when junk precedes it, so both readings are taken.
	header := max(0, bytes.Index(data[:min(len(data), headerWindow)], []byte("%PDF-")))
	for off := range xrefOffsets {
		for _, o := range []int{off, off + header} {
			// pdfcpu parses the object right at the offset, after white space at most.
			k := sort.Search(len(streams), func(i int) bool { return streams[i].objPos >= o })
			if k < len(streams) && o >= 0 && o <= len(data) && skipSpace(data, o) == streams[k].objPos {
				streams[k].xref = true
			}
		}
	}

	var err error
	for _, s := range streams {
		if err = ctx.Err(); err != nil {
			break
		}
		if err = p.charge(s, objs, m); err != nil {
			break
		}
	}
	return Usage{Decoded: m.used, Objects: objects}, err
}

// charge counts one stream: the raw bytes pdfcpu allocates for it, then its decoded output.
func (p *parser) charge(s stream, objs map[int]int, m *meter) error {
	length := int64(-1)
	if l, ok := p.resolve(s.length, objs); ok && l.kind == kindInt {
		length = l.num
	}
	end := len(p.data)
	switch {
	case length >= 0 && length <= int64(len(p.data)-s.data):
		end = s.data + int(length)
	default:
		// No usable /Length: pdfcpu reads up to "endstream".
		if e := p.endstream(s.data); e >= 0 {
			end = e
		}
	}
	// pdfcpu allocates /Length bytes before reading them (up to its 512 MiB per-stream cap), so a
	// lying /Length costs memory even with no data behind it.
	if err := m.add(min(max(length, int64(end-s.data)), 512<<20)); err != nil {
		return err
	}
	if s.image && !s.xref {
		return nil
	}
	filters, parms := p.filters(s.filter, s.parms, objs)
	if len(filters) == 0 {
		if s.xref {
			return m.add((xrefWeight - 1) * int64(end-s.data))
		}
		return nil
	}
	if len(filters) > 8 {
		// pdfcpu decodes chains of any length, each stage into its own buffer; no honest file
		// stacks more than two or three.
		return m.add(m.limit + 1)
	}
	var r io.Reader = bytes.NewReader(p.data[s.data:end])
	for i, f := range filters {
		next, err := decoder(f, parms[i], r, m)
		if err != nil {
			return err
		}
		if next == nil {
			break // pdfcpu cannot decode it (or stops here): nothing further is buffered
		}
		r = &countingReader{r: next, m: m, weight: 1}
	}
	final := &countingReader{r: r, m: m}
	if s.xref {
		final.weight = xrefWeight - 1 // on top of the count of the last stage
	}
	_, err := io.Copy(io.Discard, final)
	if errors.Is(err, errOverBudget) || m.used > m.limit {
		// The second test: a decoder that reads through bufio may take the meter's error for the
		// end of its input.
		return errOverBudget
	}
	return nil // a broken stream costs what it produced before breaking; pdfcpu fares the same
}

// filters returns the stream's filter names and their parameter dictionaries (nil when absent).
func (p *parser) filters(filter, decodeParms *value, objs map[int]int) ([]string, []*value) {
	f, _ := p.resolve(filter, objs)
	dp, _ := p.resolve(decodeParms, objs)
	var names []string
	var parms []*value
	switch f.kind {
	case kindName:
		names = []string{f.str}
		parms = []*value{p.dictOrNil(dp, objs)}
	case kindArray:
		for i, e := range f.arr {
			e, _ = p.resolve(e, objs)
			if e.kind != kindName {
				return names, parms // pdfcpu refuses the pipeline from here on
			}
			names = append(names, e.str)
			var pv *value
			switch {
			case dp.kind == kindArray && i < len(dp.arr):
				pv = p.dictOrNil(dp.arr[i], objs)
			case dp.kind == kindDict && i == 0:
				pv = dp // one filter in an array, its parameters not
			}
			parms = append(parms, pv)
		}
	}
	return names, parms
}

func (p *parser) dictOrNil(v *value, objs map[int]int) *value {
	v, _ = p.resolve(v, objs)
	if v.kind != kindDict {
		return nil
	}
	return v
}

// decoder wraps r in a streaming decoder for filter f. A nil reader means pdfcpu would not decode
// further: an unsupported filter, or an image filter, whose cost decoder charges itself and which
// ends the chain.
func decoder(f string, parms *value, r io.Reader, m *meter) (io.Reader, error) {
	param := func(key string, def int64) int64 {
		if parms == nil {
			return def
		}
		if v := parms.get(key); v.kind == kindInt {
			return v.num
		}
		return def
	}
	switch f {
	case "FlateDecode", "Fl":
		if pred := param("Predictor", 1); pred > 1 {
			// pdfcpu allocates two rows of Columns×Colors×BitsPerComponent bits up front.
			row := rowBytes(param("Columns", 1), param("Colors", 1), param("BitsPerComponent", 8))
			if err := m.add(2 * row); err != nil {
				return nil, err
			}
		}
		zr, err := zlib.NewReader(r)
		if err != nil {
			return nil, nil
		}
		return zr, nil
	case "LZWDecode", "LZW":
		if param("EarlyChange", 1) == 1 {
			return tifflzw.NewReader(r, tifflzw.MSB, 8), nil
		}
		return lzw.NewReader(r, lzw.MSB, 8), nil
	case "ASCIIHexDecode", "AHx":
		return &hexReader{r: bufio.NewReader(r)}, nil
	case "ASCII85Decode", "A85":
		return &a85Reader{r: bufio.NewReader(r)}, nil
	case "RunLengthDecode", "RL":
		return &runLengthReader{r: bufio.NewReader(r)}, nil
	case "DCTDecode", "DCT":
		// Outside an image pdfcpu decodes a JPEG into an image and gob-encodes it: four bytes a
		// pixel, twice.
		cfg, err := jpeg.DecodeConfig(r)
		if err != nil {
			return nil, nil
		}
		return nil, m.add(8 * int64(cfg.Width) * int64(cfg.Height))
	case "CCITTFaxDecode", "CCF":
		rows := param("Rows", 0)
		return nil, m.add(2 * rows * rowBytes(param("Columns", 1728), 1, 1))
	}
	return nil, nil // JBIG2, JPX, Crypt and unknown names: pdfcpu does not decode them
}

// rowBytes is ceil(columns×colors×bpc / 8), saturating instead of overflowing.
func rowBytes(columns, colors, bpc int64) int64 {
	const limit = 1 << 40
	if columns < 0 || colors < 0 || bpc < 0 || columns > limit || colors > 1<<10 || bpc > 1<<10 {
		return limit
	}
	bits := columns * colors * bpc
	if bits > limit {
		return limit
	}
	return (bits + 7) / 8
}

// hexReader decodes ASCIIHexDecode data up to its '>'.
type hexReader struct {
	r    *bufio.Reader
	done bool
}

func (h *hexReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && !h.done {
		var digits [2]byte
		k := 0
		for k < 2 {
			c, ok := nextChar(h.r, '>')
			if !ok {
				h.done = true
				break
			}
			digits[k] = c
			k++
		}
		if k == 0 {
			break
		}
		if k == 1 {
			digits[1] = '0'
		}
		hi, lo := unhex(digits[0]), unhex(digits[1])
		if hi < 0 || lo < 0 {
			return n, errors.New("ASCIIHexDecode: bad digit")
		}
		p[n] = byte(hi<<4 | lo)
		n++
	}
	if n == 0 && h.done {
		return 0, io.EOF
	}
	return n, nil
}

// nextChar is the next byte of r that is not white space; false at the filter's end marker, the
// end of the data or a read error (the meter's refusal among them, which charge checks itself).
func nextChar(r *bufio.Reader, end byte) (byte, bool) {
	for {
		c, err := r.ReadByte()
		if err != nil || c == end {
			return 0, false
		}
		if !isSpace(c) {
			return c, true
		}
	}
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// a85Reader decodes ASCII85Decode data up to its "~>"; a 'z' stands for four zero bytes.
type a85Reader struct {
	r    *bufio.Reader
	out  []byte
	done bool
}

func (a *a85Reader) Read(p []byte) (int, error) {
	for len(a.out) == 0 {
		if a.done {
			return 0, io.EOF
		}
		var group [5]byte
		k := 0
		for k < 5 {
			c, ok := nextChar(a.r, '~')
			if !ok {
				a.done = true
				break
			}
			if c == 'z' && k == 0 {
				a.out = append(a.out[:0], 0, 0, 0, 0)
				break
			}
			if c < '!' || c > 'u' {
				return 0, errors.New("ASCII85Decode: bad character")
			}
			group[k] = c
			k++
		}
		if len(a.out) > 0 {
			break
		}
		if k < 2 {
			continue // a lone trailing character carries no byte
		}
		for i := k; i < 5; i++ {
			group[i] = 'u'
		}
		var v uint32
		for _, c := range group {
			v = v*85 + uint32(c-'!')
		}
		a.out = append(a.out[:0], byte(v>>24), byte(v>>16), byte(v>>8), byte(v))[:k-1]
	}
	n := copy(p, a.out)
	a.out = a.out[n:]
	return n, nil
}

// runLengthReader decodes RunLengthDecode data up to its EOD byte (128).
type runLengthReader struct {
	r      *bufio.Reader
	run    int  // bytes left in the current run
	repeat bool // the run repeats b
	b      byte
	done   bool
}

func (rl *runLengthReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if rl.run == 0 {
			if rl.done {
				break
			}
			c, err := rl.r.ReadByte()
			if err != nil || c == 128 {
				rl.done = true
				break
			}
			if c < 128 {
				rl.run, rl.repeat = int(c)+1, false
			} else {
				b, err := rl.r.ReadByte()
				if err != nil {
					rl.done = true
					break
				}
				rl.run, rl.repeat, rl.b = 257-int(c), true, b
			}
		}
		if rl.repeat {
			k := min(rl.run, len(p)-n)
			for i := range k {
				p[n+i] = rl.b
			}
			n += k
			rl.run -= k
			continue
		}
		c, err := rl.r.ReadByte()
		if err != nil {
			rl.done, rl.run = true, 0
			break
		}
		p[n] = c
		n++
		rl.run--
	}
	if n == 0 && rl.done {
		return 0, io.EOF
	}
	return n, nil
}

// occurrences yields the offset of every occurrence of word in data, in order.
func occurrences(data []byte, word string) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; ; {
			j := bytes.Index(data[i:], []byte(word))
			if j < 0 || !yield(i+j) {
				return
			}
			i += j + len(word)
		}
	}
}

// objectHeader reads "N G" before the "obj" at at, returning N and where N starts.
func objectHeader(data []byte, at int) (nr, start int, ok bool) {
	i := at
	skipBack := func() {
		for i > 0 && isSpace(data[i-1]) {
			i--
		}
	}
	digitsBack := func() (int, bool) {
		end := i
		for i > 0 && data[i-1] >= '0' && data[i-1] <= '9' && end-i < 10 {
			i--
		}
		if i == end {
			return 0, false
		}
		n, err := strconv.Atoi(string(data[i:end]))
		return n, err == nil
	}
	skipBack()
	if i == at {
		return 0, 0, false // "obj" glued to what precedes it
	}
	if _, ok := digitsBack(); !ok {
		return 0, 0, false
	}
	e := i
	skipBack()
	if i == e {
		return 0, 0, false
	}
	nr, ok = digitsBack()
	if !ok || (i > 0 && !isDelimOrSpace(data[i-1])) {
		return 0, 0, false
	}
	return nr, i, true
}

// noteXRefOffsets records the offsets a trailer or an xref stream points to.
func noteXRefOffsets(d *value, into map[int]bool) {
	for _, k := range []string{"Prev", "XRefStm"} {
		if v := d.get(k); v.kind == kindInt && v.num >= 0 && v.num < 1<<40 {
			into[int(v.num)] = true
		}
	}
}

func leadingInt(b []byte) (int, bool) {
	k := 0
	for k < len(b) && k < 12 && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	n, err := strconv.Atoi(string(b[:k]))
	return n, err == nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isDelimOrSpace(c byte) bool { return isSpace(c) || isDelim(c) }

// skipSpace skips white space and comments.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch {
		case isSpace(data[i]):
			i++
		case data[i] == '%':
			for i < len(data) && data[i] != '\n' && data[i] != '\r' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

// The dictionary parser: just enough PDF syntax to read the entries of stream dictionaries that
// decide their decoding. It is more forgiving than pdfcpu where that makes it count more, never less.

type kind int

const (
	kindNone kind = iota
	kindInt
	kindName
	kindRef
	kindArray
	kindDict
	// kindOther is a string, a real number, a boolean, null or a keyword: nothing that decides a
	// stream's decoding is one.
	kindOther
)

type value struct {
	kind kind
	num  int64  // kindInt; the object number for kindRef
	str  string // kindName
	arr  []*value
	dict map[string]*value
}

var none = &value{}

// get returns the entry key of a dictionary (the last one when a key repeats), or none.
func (v *value) get(key string) *value {
	if v == nil || v.kind != kindDict {
		return none
	}
	if e, ok := v.dict[key]; ok {
		return e
	}
	return none
}

func (v *value) isName(n string) bool { return v.kind == kindName && v.str == n }

type parser struct {
	data []byte
	pos  int
	work int64 // bytes the parser may still consume, over all calls
	// ends are the offsets of every "endstream", found once: searching from each stream would cost
	// the file's size per stream.
	ends []int
}

// endstream is the offset of the first "endstream" at or after from, or -1.
func (p *parser) endstream(from int) int {
	if p.ends == nil {
		p.ends = slices.AppendSeq([]int{}, occurrences(p.data, "endstream"))
	}
	k := sort.SearchInts(p.ends, from)
	if k == len(p.ends) {
		return -1
	}
	return p.ends[k]
}

const maxNesting = 64

// resolve follows an indirect reference to the object it names (one level, as pdfcpu does for
// these entries).
func (p *parser) resolve(v *value, objs map[int]int) (*value, bool) {
	if v.kind != kindRef {
		return v, v.kind != kindNone
	}
	at, ok := objs[int(v.num)]
	if !ok {
		return none, false
	}
	saved := p.pos
	p.pos = skipSpace(p.data, at)
	r, err := p.value(0)
	p.pos = saved
	if err != nil || r.kind == kindRef {
		return none, false
	}
	return r, true
}

func (p *parser) value(depth int) (*value, error) {
	if depth > maxNesting {
		return nil, errors.New("nested too deeply")
	}
	p.pos = skipSpace(p.data, p.pos)
	if p.pos >= len(p.data) {
		return nil, io.ErrUnexpectedEOF
	}
	if depth == 0 {
		if p.work < 0 {
			return nil, errTooComplex
		}
		start := p.pos
		defer func() { p.work -= int64(p.pos - start) }()
	}
	d := p.data
	switch c := d[p.pos]; {
	case c == '<' && p.pos+1 < len(d) && d[p.pos+1] == '<':
		p.pos += 2
		v := &value{kind: kindDict, dict: map[string]*value{}}
		for {
			p.pos = skipSpace(d, p.pos)
			if p.pos+1 < len(d) && d[p.pos] == '>' && d[p.pos+1] == '>' {
				p.pos += 2
				return v, nil
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if k.kind != kindName {
				return nil, fmt.Errorf("dictionary key is not a name at %d", p.pos)
			}
			e, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v.dict[k.str] = e
		}
	case c == '[':
		p.pos++
		v := &value{kind: kindArray}
		for {
			p.pos = skipSpace(d, p.pos)
			if p.pos < len(d) && d[p.pos] == ']' {
				p.pos++
				return v, nil
			}
			e, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v.arr = append(v.arr, e)
		}
	case c == '<':
		end := bytes.IndexByte(d[p.pos:], '>')
		if end < 0 {
			return nil, io.ErrUnexpectedEOF
		}
		p.pos += end + 1
		return &value{kind: kindOther}, nil
	case c == '(':
		nest := 0
		for p.pos < len(d) {
			switch d[p.pos] {
			case '\\':
				p.pos++
			case '(':
				nest++
			case ')':
				nest--
			}
			p.pos++
			if nest == 0 {
				return &value{kind: kindOther}, nil
			}
		}
		return nil, io.ErrUnexpectedEOF
	case c == '/':
		p.pos++
		s := p.pos
		for p.pos < len(d) && !isDelimOrSpace(d[p.pos]) {
			p.pos++
		}
		return &value{kind: kindName, str: unescapeName(d[s:p.pos])}, nil
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		s := p.pos
		for p.pos < len(d) && !isDelimOrSpace(d[p.pos]) {
			p.pos++
		}
		n, err := strconv.ParseInt(string(d[s:p.pos]), 10, 64)
		if err != nil {
			return &value{kind: kindOther}, nil
		}
		// "N G R" is a reference.
		save := p.pos
		q := skipSpace(d, p.pos)
		g := q
		for g < len(d) && d[g] >= '0' && d[g] <= '9' {
			g++
		}
		if g > q {
			r := skipSpace(d, g)
			if r < len(d) && d[r] == 'R' && (r+1 == len(d) || isDelimOrSpace(d[r+1])) {
				p.pos = r + 1
				return &value{kind: kindRef, num: n}, nil
			}
		}
		p.pos = save
		return &value{kind: kindInt, num: n}, nil
	case isDelim(c):
		return nil, fmt.Errorf("unexpected %q at %d", c, p.pos)
	default: // true, false, null or a keyword
		for p.pos < len(d) && !isDelimOrSpace(d[p.pos]) {
			p.pos++
		}
		return &value{kind: kindOther}, nil
	}
}

// unescapeName decodes the #xx escapes of a name, as pdfcpu does.
func unescapeName(b []byte) string {
	if bytes.IndexByte(b, '#') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) {
			if hi, lo := unhex(b[i+1]), unhex(b[i+2]); hi >= 0 && lo >= 0 {
				out = append(out, byte(hi<<4|lo))
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}
