package pdftest

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// OpenSSLResult is OpenSSL's verdict on one signature of a PDF.
type OpenSSLResult struct {
	DocumentTimestamp bool   // an RFC 3161 token over the byte range (ETSI.RFC3161), else a detached CMS
	Err               error  // nil when OpenSSL verified the signature and its chain to the trusted CA
	Output            string // what OpenSSL printed
}

var byteRange = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// tstInfo is id-ct-TSTInfo, the content type of an RFC 3161 timestamp token.
var tstInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

// OpenSSLVerify checks every signature of a PDF, one OpenSSL process each, against the CA
// certificate in caFile: a detached CMS with `openssl cms -verify` over its byte range, a document
// timestamp with `openssl ts -verify` (message imprint of the byte range, TSA chain). It is a second
// independent validator beside poppler, whose 22.12 release reports the certificate trust of the
// first signature in a file only: it reads NSS's thread error code after CERT_PKIXVerifyCert without
// looking at the call's result, so a stale error from an earlier signature answers "Unknown issue".
func OpenSSLVerify(t testing.TB, data []byte, caFile string) []OpenSSLResult {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl not found in PATH: apt-get install openssl")
	}
	dir := t.TempDir()
	var out []OpenSSLResult
	for i, m := range byteRange.FindAllSubmatch(data, -1) {
		var r [4]int
		for j := range r {
			if r[j], err = strconv.Atoi(string(m[j+1])); err != nil {
				t.Fatal(err)
			}
		}
		if r[0] != 0 || r[1] >= r[2] || r[2]+r[3] > len(data) {
			t.Fatalf("signature %d: /ByteRange %v does not fit the file", i+1, r)
		}
		contents := bytes.Trim(data[r[1]:r[2]], "<> \r\n")
		der, err := hex.DecodeString(string(contents))
		if err != nil {
			t.Fatalf("signature %d: /Contents is not hex: %v", i+1, err)
		}
		var outer asn1.RawValue // the CMS without /Contents' zero padding
		if _, err := asn1.Unmarshal(der, &outer); err != nil {
			t.Fatalf("signature %d: /Contents is not DER: %v", i+1, err)
		}
		signed := append(append([]byte{}, data[:r[1]]...), data[r[2]:r[2]+r[3]]...)
		sigPath, dataPath := filepath.Join(dir, fmt.Sprintf("sig%d.der", i)), filepath.Join(dir, fmt.Sprintf("signed%d.bin", i))
		if err := os.WriteFile(sigPath, outer.FullBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dataPath, signed, 0o600); err != nil {
			t.Fatal(err)
		}
		res := OpenSSLResult{DocumentTimestamp: isTimestampToken(outer.FullBytes)}
		var args []string
		if res.DocumentTimestamp {
			args = []string{"ts", "-verify", "-token_in", "-in", sigPath, "-data", dataPath, "-CAfile", caFile}
		} else {
			args = []string{"cms", "-verify", "-binary", "-inform", "DER", "-in", sigPath, "-content", dataPath,
				"-CAfile", caFile, "-purpose", "any", "-out", os.DevNull}
		}
		b, err := exec.Command(bin, args...).CombinedOutput()
		res.Output = string(b)
		if err != nil {
			res.Err = fmt.Errorf("openssl %s -verify of signature %d: %w", args[0], i+1, err)
		}
		out = append(out, res)
	}
	return out
}

// isTimestampToken says whether a CMS SignedData encapsulates a TSTInfo.
func isTimestampToken(der []byte) bool {
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return false
	}
	var sd struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		Encapsulated     struct {
			Type asn1.ObjectIdentifier
		}
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return false
	}
	return sd.Encapsulated.Type.Equal(tstInfo)
}

// RequireOpenSSLValid fails t unless the PDF has exactly cms detached signatures and timestamps
// document timestamps and OpenSSL verifies every one of them and its chain to the CA in caFile.
func RequireOpenSSLValid(t testing.TB, data []byte, caFile string, cms, timestamps int) {
	t.Helper()
	var gotCMS, gotTS int
	for i, r := range OpenSSLVerify(t, data, caFile) {
		if r.DocumentTimestamp {
			gotTS++
		} else {
			gotCMS++
		}
		if r.Err != nil {
			t.Errorf("signature %d (document timestamp: %v): %v\n%s", i+1, r.DocumentTimestamp, r.Err, r.Output)
		}
	}
	if gotCMS != cms || gotTS != timestamps {
		t.Errorf("OpenSSL found %d signatures and %d document timestamps, want %d and %d", gotCMS, gotTS, cms, timestamps)
	}
}

// RequireOpenSSLInvalid fails t unless OpenSSL refuses every signature of the PDF.
func RequireOpenSSLInvalid(t testing.TB, data []byte, caFile string) {
	t.Helper()
	for i, r := range OpenSSLVerify(t, data, caFile) {
		if r.Err == nil {
			t.Errorf("OpenSSL verifies signature %d (document timestamp: %v) of a tampered file:\n%s", i+1, r.DocumentTimestamp, r.Output)
		}
	}
}
