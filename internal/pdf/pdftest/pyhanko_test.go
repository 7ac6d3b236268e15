package pdftest_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki/pkitest"
)

// The helper reports what pyHanko finds, good and bad: a signed document validates; a changed byte,
// a foreign root or a second signature (the first is then extended) show in the result.
func TestPyHankoValidateReportsFailures(t *testing.T) {
	signed, twice, root, foreign := signedTwice(t)
	// The page's text is in an uncompressed content stream inside the signed byte range.
	at := bytes.Index(signed, []byte("Test document"))
	if at < 0 {
		t.Fatal("the test document's page text is not in its bytes")
	}
	tampered := bytes.Clone(signed)
	tampered[at+5] = 'D'

	cases := []struct {
		name                    string
		pdf, root               []byte
		intact, trusted         bool
		levels                  []pdftest.ModificationLevel
		signatureTimestampValid bool
	}{
		{"signed once", signed, root, true, true, []pdftest.ModificationLevel{pdftest.LevelNone}, true},
		{"signed twice", twice, root, true, true, []pdftest.ModificationLevel{pdftest.LevelFormFilling, pdftest.LevelNone}, true},
		// pyHanko judges no trust for a signature whose digest does not match: trusted is false too.
		{"a changed byte", tampered, root, false, false, []pdftest.ModificationLevel{pdftest.LevelNone}, true},
		{"another root", signed, foreign, true, false, []pdftest.ModificationLevel{pdftest.LevelNone}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			results := pdftest.PyHankoValidate(t, tc.pdf, tc.root)
			if len(results) != len(tc.levels) {
				t.Fatalf("%d results, want %d: %+v", len(results), len(tc.levels), results)
			}
			// The first signature is the one the case is about; a later one covers the whole file.
			r := results[0]
			// Valid is the CMS signature over its signed attributes, which no case changes.
			if r.Intact != tc.intact || r.Trusted != tc.trusted || !r.Valid || r.BottomLine != (tc.intact && tc.trusted) {
				t.Errorf("intact %t, valid %t, trusted %t, bottom line %t; want %t, true, %t (%s)", r.Intact, r.Valid, r.Trusted, r.BottomLine, tc.intact, tc.trusted, r.Summary)
			}
			if r.Timestamp || r.Field == "" || r.RevocationMode != "soft-fail" || !r.SignatureTimestamp || r.SignatureTimestampOK != tc.signatureTimestampValid {
				t.Errorf("result %+v", r)
			}
			for i, want := range tc.levels {
				if results[i].Level != want {
					t.Errorf("signature %d: level %s, want %s (%s)", i+1, results[i].Level, want, results[i].Summary)
				}
			}
		})
	}
}

func TestModificationLevelNames(t *testing.T) {
	for _, tc := range []struct {
		text string
		want pdftest.ModificationLevel
	}{
		{"NONE", pdftest.LevelNone}, {"LTA_UPDATES", pdftest.LevelLTAUpdates}, {"FORM_FILLING", pdftest.LevelFormFilling},
		{"ANNOTATIONS", pdftest.LevelAnnotations}, {"OTHER", pdftest.LevelOther}, {"", pdftest.LevelUnknown},
	} {
		var got pdftest.ModificationLevel
		if err := got.UnmarshalText([]byte(tc.text)); err != nil || got != tc.want {
			t.Errorf("UnmarshalText(%q) = %s, %v; want %s", tc.text, got, err, tc.want)
		}
	}
	var l pdftest.ModificationLevel
	if err := l.UnmarshalText([]byte("SOMETHING")); err == nil {
		t.Error("an unknown level name was accepted")
	}
}

// recorder is a testing.TB whose Errorf and Fatalf record the message instead of failing the test.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// RequirePyHankoValid fails on each condition it names, and only then.
func TestRequirePyHankoValidFails(t *testing.T) {
	signed, twice, root, foreign := signedTwice(t)
	cases := []struct {
		name      string
		pdf, root []byte
		want      int
		max       pdftest.ModificationLevel
		failure   string // "" when it must pass
	}{
		{"passes", twice, root, 2, pdftest.LevelFormFilling, ""},
		{"level above the maximum", twice, root, 2, pdftest.LevelLTAUpdates, "modification level FORM_FILLING above LTA_UPDATES"},
		{"untrusted", signed, foreign, 1, pdftest.LevelNone, "trusted false"},
		{"count", signed, root, 2, pdftest.LevelNone, "found 1 signatures, want 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				pdftest.RequirePyHankoValid(rec, tc.pdf, tc.root, tc.want, tc.max)
			}()
			<-done
			got := strings.Join(rec.failures, "\n")
			if tc.failure == "" && got != "" || tc.failure != "" && !strings.Contains(got, tc.failure) {
				t.Errorf("RequirePyHankoValid failures %q, want one saying %q", got, tc.failure)
			}
		})
	}
}

// signedTwice is a one-page document signed once and twice by a test CA's seal, that CA's root and
// another CA's root (PEM).
func signedTwice(t *testing.T) (signed, twice, root, foreign []byte) {
	t.Helper()
	p := pkitest.New(t)
	ctx := context.Background()
	key := pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}
	signed, err := pades.Sign(ctx, pdftest.Make(t, 1, 0), key, p.TSA, pades.Signature{Name: "Ada", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if twice, err = pades.Sign(ctx, signed, key, p.TSA, pades.Signature{Name: "Bo", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	root = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.CA.Cert.Raw})
	foreign = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pkitest.New(t).CA.Cert.Raw})
	return signed, twice, root, foreign
}
