package pades

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"sort"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esign/internal/pdf"
)

// SignatureInfo is what a signature dictionary of a PDF says, read back for the API's
// Document.signatures. It does not validate anything: the validators do that.
type SignatureInfo struct {
	DocumentTimestamp bool
	Name              string
	ContactInfo       string
	// SigningCertificate is the signer's (for a document timestamp, the TSA's) certificate.
	SigningCertificate *x509.Certificate
	// Timestamp is the signature timestamp's time and certificate, when there is one.
	Timestamp            time.Time
	TimestampCertificate *x509.Certificate
	// Certificates are all the certificates the signature carries: the signer's chain and the
	// timestamp token's (what a DSS must hold revocation data for).
	Certificates []*x509.Certificate
	// Problem says why the signature's contents could not be read (a foreign or broken signature);
	// such a signature is still listed, since the document carries it.
	Problem string
	covered int
}

// ReadSignatures lists the signatures of a PDF in the order they were made.
func ReadSignatures(ctx context.Context, data []byte) ([]SignatureInfo, error) {
	mctx, err := pdf.Read(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("read pdf: %w", err)
	}
	x := mctx.XRefTable
	var out []SignatureInfo
	for nr, entry := range x.Table {
		if entry == nil || entry.Free || nr == 0 {
			continue
		}
		gen := 0
		if entry.Generation != nil {
			gen = *entry.Generation
		}
		d, err := x.DereferenceDict(*types.NewIndirectRef(nr, gen))
		if err != nil || d == nil {
			continue
		}
		typ := d.NameEntry("Type")
		if typ == nil || (*typ != "Sig" && *typ != "DocTimeStamp") || d["Contents"] == nil {
			continue
		}
		info, err := readSignature(d, *typ == "DocTimeStamp")
		if err != nil {
			info.Problem = fmt.Sprintf("signature object %d: %v", nr, err)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].covered < out[j].covered })
	return out, nil
}

func readSignature(d types.Dict, docTimestamp bool) (SignatureInfo, error) {
	info := SignatureInfo{DocumentTimestamp: docTimestamp}
	contents, err := rawBytes(d["Contents"])
	if err != nil {
		return info, err
	}
	if br, ok := d["ByteRange"].(types.Array); ok && len(br) == 4 {
		if start, ok := br[2].(types.Integer); ok {
			if length, ok := br[3].(types.Integer); ok {
				info.covered = start.Value() + length.Value()
			}
		}
	}
	for key, dst := range map[string]*string{"Name": &info.Name, "ContactInfo": &info.ContactInfo} {
		if s, err := types.StringOrHexLiteral(d[key]); err == nil && s != nil {
			*dst = *s
		}
	}
	var der asn1.RawValue // /Contents is zero-padded after the DER
	if _, err := asn1.Unmarshal(contents, &der); err != nil {
		return info, fmt.Errorf("contents: %w", err)
	}
	if docTimestamp {
		ts, err := timestamp.Parse(der.FullBytes)
		if err != nil {
			return info, fmt.Errorf("document timestamp: %w", err)
		}
		info.Timestamp = ts.Time
		info.Certificates = ts.Certificates
		if len(ts.Certificates) > 0 {
			info.SigningCertificate, info.TimestampCertificate = ts.Certificates[0], ts.Certificates[0]
		}
		return info, nil
	}
	p7, err := pkcs7.Parse(der.FullBytes)
	if err != nil {
		return info, fmt.Errorf("cms: %w", err)
	}
	info.SigningCertificate = p7.GetOnlySigner()
	info.Certificates = append(info.Certificates, p7.Certificates...)
	if len(p7.Signers) == 1 {
		for _, a := range p7.Signers[0].UnauthenticatedAttributes {
			if !a.Type.Equal(oidSignatureTimeStamp) {
				continue
			}
			ts, err := timestamp.Parse(a.Value.Bytes)
			if err != nil {
				return info, fmt.Errorf("signature timestamp: %w", err)
			}
			info.Timestamp = ts.Time
			info.Certificates = append(info.Certificates, ts.Certificates...)
			if len(ts.Certificates) > 0 {
				info.TimestampCertificate = ts.Certificates[0]
			}
		}
	}
	return info, nil
}

func rawBytes(o types.Object) ([]byte, error) {
	switch v := o.(type) {
	case types.HexLiteral:
		return v.Bytes()
	case types.StringLiteral:
		return types.Unescape(v.Value())
	}
	return nil, fmt.Errorf("contents is a %T", o)
}
