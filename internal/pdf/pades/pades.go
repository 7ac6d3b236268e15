// Package pades signs PDFs as PAdES baseline signatures (ETSI.CAdES.detached with a signature
// timestamp) by INCREMENTAL updates: the original bytes are never rewritten, so earlier signatures
// stay valid. pdfcpu parses; the increment (new objects, changed page/AcroForm objects, a cross-reference
// section of the same kind as the file's) is written here.
package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esign/internal/pdf"
)

// Timestamper returns an RFC 3161 TimeStampToken (DER CMS ContentInfo) over digest.
type Timestamper interface {
	Timestamp(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error)
}

// Key signs: any crypto.Signer (a key file or an HSM) with its certificate chain, leaf first.
type Key struct {
	Signer crypto.Signer
	Chain  []*x509.Certificate
}

// Signature describes one approval signature.
type Signature struct {
	Name, Reason, Location string
	// ContactInfo carries the evidence JSON, as the contract places it.
	ContactInfo string
	Time        time.Time
	// Widget makes the signature visible, on the seals page or at its placements (nil: invisible).
	Widget *Widget
	// DocumentID, when set, stamps the document ID on every page in this signature's increment
	// (displayDocumentID; the document's first seal).
	DocumentID *DocumentIDMark
}

// contentsSize is the room reserved for the CMS (bytes; written as twice as many hex digits). A chain
// of two RSA-2048 certificates and a timestamp token with its own chain take about 7 KB.
const contentsSize = 24 << 10

// Sign appends a PAdES B-T approval signature to pdf, visible when sig.Widget is given.
func Sign(ctx context.Context, data []byte, k Key, ts Timestamper, sig Signature) ([]byte, error) {
	var v strings.Builder
	v.WriteString("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached")
	v.WriteString(" /ByteRange " + byteRangePlaceholder)
	v.WriteString(" /Contents <" + strings.Repeat("0", 2*contentsSize) + ">")
	fmt.Fprintf(&v, " /M %s", textString(pdfDate(sig.Time)))
	for _, f := range []struct{ key, value string }{{"Name", sig.Name}, {"Reason", sig.Reason}, {"Location", sig.Location}, {"ContactInfo", sig.ContactInfo}} {
		if f.value != "" {
			fmt.Fprintf(&v, " /%s %s", f.key, textString(f.value))
		}
	}
	v.WriteString(" >>")
	return addSignatureField(ctx, data, v.String(), sig.Widget, sig.DocumentID, esicSignatureLevel, func(ctx context.Context, digest []byte) ([]byte, error) {
		return buildCMS(ctx, digest, k, ts)
	})
}

// DocumentTimestamp appends a document timestamp (/DocTimeStamp, ETSI.RFC3161): the TSA's token over
// the whole document so far, which is what makes a closed document verifiable long after the seal
// certificates expire (the archive timestamp of PAdES B-LTA).
func DocumentTimestamp(ctx context.Context, data []byte, ts Timestamper) ([]byte, error) {
	dict := "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange " + byteRangePlaceholder +
		" /Contents <" + strings.Repeat("0", 2*contentsSize) + "> >>"
	return addSignatureField(ctx, data, dict, nil, nil, esicLTVLevel, func(ctx context.Context, digest []byte) ([]byte, error) {
		return ts.Timestamp(ctx, digest, crypto.SHA256)
	})
}

// byteRangePlaceholder has room for four 10-digit numbers; fillSignature writes the real ones.
const byteRangePlaceholder = "[0 0000000000 0000000000 0000000000]"

// fillSignature computes the /ByteRange around the /Contents of the signature dictionary that starts
// at sigOffset, writes it, signs the covered bytes and writes the CMS into /Contents.
func fillSignature(ctx context.Context, out []byte, sigOffset int, sign func(context.Context, []byte) ([]byte, error)) ([]byte, error) {
	rel := bytes.Index(out[sigOffset:], []byte("/Contents <"))
	if rel < 0 {
		return nil, errors.New("signature placeholder not found")
	}
	start := sigOffset + rel + len("/Contents ")
	end := start + 2 + 2*contentsSize // '<' hex '>'
	br := sigOffset + bytes.Index(out[sigOffset:], []byte(byteRangePlaceholder))
	ranges := fmt.Sprintf("[0 %d %d %d]", start, end, len(out)-end)
	if len(ranges) > len(byteRangePlaceholder) {
		return nil, errors.New("document too large for the byte range placeholder")
	}
	copy(out[br:], ranges+strings.Repeat(" ", len(byteRangePlaceholder)-len(ranges)))
	h := sha256.New()
	h.Write(out[:start])
	h.Write(out[end:])
	cms, err := sign(ctx, h.Sum(nil))
	if err != nil {
		return nil, err
	}
	if len(cms) > contentsSize {
		return nil, fmt.Errorf("signature of %d bytes does not fit the %d reserved", len(cms), contentsSize)
	}
	hex.Encode(out[start+1:], cms)
	return out, nil
}

// document is a parsed PDF and what an increment needs to know about it.
type document struct {
	data     []byte
	xref     *model.XRefTable
	xrefType bool // the last cross-reference section is a stream
	prev     int  // offset of the last cross-reference section
}

func open(ctx context.Context, data []byte) (*document, error) {
	mctx, err := pdf.Read(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("read pdf: %w", err)
	}
	if mctx.XRefTable.Size == nil || mctx.XRefTable.Root == nil {
		return nil, errors.New("read pdf: trailer lacks /Size or /Root")
	}
	prev, err := lastStartXRef(data)
	if err != nil {
		return nil, err
	}
	return &document{data: data, xref: mctx.XRefTable, xrefType: mctx.Read.UsingXRefStreams, prev: prev}, nil
}

// openCatalog opens data for an increment that changes its catalog.
func openCatalog(ctx context.Context, data []byte) (*document, types.Dict, error) {
	doc, err := open(ctx, data)
	if err != nil {
		return nil, nil, err
	}
	catalog, err := doc.xref.Catalog()
	if err != nil {
		return nil, nil, fmt.Errorf("catalog: %w", err)
	}
	return doc, catalog, nil
}

func lastStartXRef(data []byte) (int, error) {
	tail := data[max(0, len(data)-2048):]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, errors.New("read pdf: no startxref")
	}
	fields := strings.Fields(string(tail[i+len("startxref"):]))
	if len(fields) == 0 {
		return 0, errors.New("read pdf: empty startxref")
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0, fmt.Errorf("read pdf: startxref: %w", err)
	}
	return n, nil
}

// addField registers the signature field in the AcroForm (SigFlags 3), rewriting the AcroForm
// object, or changing catalog (the caller's copy; changed answers true) when the form is inline or
// missing.
func (d *document) addField(inc *increment, catalog types.Dict, fieldNr int) (changed bool, err error) {
	ref := *types.NewIndirectRef(fieldNr, 0)
	form := types.Dict{}
	formRef, indirect := catalog["AcroForm"].(types.IndirectRef)
	if af, err := d.xref.DereferenceDict(catalog["AcroForm"]); err == nil && af != nil {
		form = af.Clone().(types.Dict)
	}
	switch fields := form["Fields"].(type) {
	case types.IndirectRef:
		arr, err := d.xref.DereferenceArray(fields)
		if err != nil {
			return false, fmt.Errorf("form fields: %w", err)
		}
		inc.set(fields.ObjectNumber.Value(), append(arr, ref).PDFString())
	case types.Array:
		form["Fields"] = append(fields, ref)
	default:
		form["Fields"] = types.Array{ref}
	}
	form["SigFlags"] = types.Integer(3)
	if indirect {
		inc.set(formRef.ObjectNumber.Value(), form.PDFString())
		return false, nil
	}
	catalog["AcroForm"] = form
	return true, nil
}

// textString writes s as a PDF text string: a literal for printable ASCII, else UTF-16BE hex with BOM.
func textString(s string) string {
	ascii := true
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
		return "(" + r.Replace(s) + ")"
	}
	units := utf16.Encode([]rune(s))
	b := make([]byte, 2, 2+2*len(units))
	b[0], b[1] = 0xFE, 0xFF
	for _, u := range units {
		b = append(b, byte(u>>8), byte(u))
	}
	return "<" + hex.EncodeToString(b) + ">"
}

func pdfDate(t time.Time) string {
	t = t.UTC()
	return "D:" + t.Format("20060102150405") + "Z"
}
