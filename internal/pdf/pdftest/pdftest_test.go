package pdftest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// readConf is a pdfcpu configuration that does not create pdfcpu's config directory. Strict mode
// would reject the standard-14 font dictionaries (no /Widths), which every reader accepts.
func readConf() *model.Configuration {
	return &model.Configuration{
		Reader15:       true,
		ValidationMode: model.ValidationRelaxed,
		Eol:            types.EolLF,
		Offline:        true,
		Limits:         model.DefaultResourceLimits(),
	}
}

func TestBuildValid(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
	}{
		{"one page", Spec{Pages: 1}},
		{"ten pages", Spec{Pages: 10}},
		{"padded to 1 MB", Spec{Pages: 2, MinSize: 1 << 20}},
		{"bookmarks", Spec{Pages: 3, Bookmarks: true}},
		{"text field", Spec{Pages: 1, TextField: true}},
		{"signed", Spec{Pages: 2, Signed: true, TextField: true}},
		{"title with parentheses", Spec{Pages: 1, Title: `Contract (draft) \ v2`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := Build(t, tc.spec)
			if len(data) < tc.spec.MinSize {
				t.Fatalf("got %d bytes, want at least %d", len(data), tc.spec.MinSize)
			}
			QPDFCheck(t, data)

			ctx, err := api.ReadAndValidate(bytes.NewReader(data), readConf())
			if err != nil {
				t.Fatalf("pdfcpu validation: %v", err)
			}
			if ctx.PageCount != tc.spec.Pages {
				t.Errorf("pdfcpu counts %d pages, want %d", ctx.PageCount, tc.spec.Pages)
			}
		})
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	spec := Spec{Pages: 3, MinSize: 64 << 10, Bookmarks: true, Signed: true}
	if !bytes.Equal(Build(t, spec), Build(t, spec)) {
		t.Fatal("two builds of the same spec differ")
	}
}

func TestPaddingIsIncompressible(t *testing.T) {
	const size = 256 << 10
	data := Make(t, 1, size)
	if len(data) > size+8<<10 {
		t.Errorf("got %d bytes for minSize %d: padding overshoots", len(data), size)
	}
	var compressed bytes.Buffer
	ctx, err := api.ReadContext(bytes.NewReader(data), readConf())
	if err != nil {
		t.Fatal(err)
	}
	ctx.Conf.WriteObjectStream, ctx.Conf.WriteXRefStream = true, true
	if err := api.WriteContext(ctx, &compressed); err != nil {
		t.Fatal(err)
	}
	if compressed.Len() < size {
		t.Errorf("rewritten file has %d bytes, want at least %d: padding compresses", compressed.Len(), size)
	}
}

func TestSignedByteRangeCoversAllButContents(t *testing.T) {
	data := Build(t, Spec{Pages: 1, Signed: true})
	// qpdf reports the signature dictionary's ByteRange; checking it by hand keeps qpdf optional
	// for this property: the ranges must cover the whole file except the /Contents hex string.
	i := bytes.Index(data, []byte("/ByteRange ["))
	if i < 0 {
		t.Fatal("no /ByteRange")
	}
	var a, b, c, d int
	if _, err := fmt.Sscanf(string(data[i+len("/ByteRange ["):]), "%d %d %d %d", &a, &b, &c, &d); err != nil {
		t.Fatal(err)
	}
	if a != 0 || c+d != len(data) || data[b] != '<' || data[c-1] != '>' {
		t.Fatalf("ByteRange [%d %d %d %d] does not frame /Contents in a %d-byte file", a, b, c, d, len(data))
	}
	if strings.Trim(string(data[b+1:c-1]), "0") != "" {
		t.Fatal("gap holds more than the /Contents placeholder")
	}
}

func TestEncrypted(t *testing.T) {
	data := Encrypted(t)
	QPDFCheck(t, data)
	out, err := QPDF(t, data, "--show-encryption")
	if err != nil {
		t.Fatalf("qpdf --show-encryption: %v\n%s", err, out)
	}
	if !strings.Contains(out, "file encryption method: AESv3") || !strings.Contains(out, "User password = \n") {
		t.Fatalf("want AES-256 with an empty user password, qpdf says:\n%s", out)
	}
}

func TestBroken(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"truncated", Truncated(t)},
		{"broken xref", BrokenXRef(t)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if out, err := QPDF(t, tc.data, "--check"); err == nil && !strings.Contains(out, "WARNING") {
				t.Fatalf("qpdf --check accepts it silently:\n%s", out)
			}
		})
	}
}
