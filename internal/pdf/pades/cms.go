package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sort"
)

// Object identifiers of CMS (RFC 5652), ESS (RFC 5035) and RFC 3161.
var (
	oidData                  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCertificateV2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSignatureTimeStamp    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidSHA256                = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidRSAEncryption         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECDSAWithSHA256       = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	sha256AlgorithmIdentifer = pkix.AlgorithmIdentifier{Algorithm: oidSHA256}
)

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue // [0] EXPLICIT, built by hand: asn1 drops field tags on RawValues
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"tag:0"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type signerInfo struct {
	Version            int
	SID                issuerAndSerial
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

// ESS signing-certificate-v2 (RFC 5035); the hash algorithm is the default SHA-256, so it is omitted.
type essCertIDv2 struct {
	CertHash     []byte
	IssuerSerial issuerSerial
}

type issuerSerial struct {
	Issuer []asn1.RawValue // GeneralNames: one directoryName
	Serial *big.Int
}

type signingCertificateV2 struct {
	Certs []essCertIDv2
}

func attr(oid asn1.ObjectIdentifier, value any) (attribute, error) {
	der, err := asn1.Marshal(value)
	if err != nil {
		return attribute{}, err
	}
	return attribute{Type: oid, Values: []asn1.RawValue{{FullBytes: der}}}, nil
}

// setOf encodes attributes as a DER SET OF (sorted by encoding), with the given tag byte: 0x31 for
// the bytes that are signed, 0xA0/0xA1 for the implicit tags inside SignerInfo.
func setOf(attrs []attribute, tag byte) ([]byte, error) {
	encoded := make([][]byte, len(attrs))
	for i, a := range attrs {
		der, err := asn1.Marshal(a)
		if err != nil {
			return nil, err
		}
		encoded[i] = der
	}
	sort.Slice(encoded, func(i, j int) bool { return bytes.Compare(encoded[i], encoded[j]) < 0 })
	set, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(encoded, nil)})
	if err != nil {
		return nil, err
	}
	set[0] = tag
	return set, nil
}

// buildCMS makes a detached CAdES signature (ETSI.CAdES.detached) over digest: signed attributes
// content-type, message-digest and signing-certificate-v2 (no signing-time, as PAdES requires), the
// signature by k.Signer, and an RFC 3161 timestamp of the signature as unsigned attribute.
func buildCMS(ctx context.Context, digest []byte, k Key, ts Timestamper) ([]byte, error) {
	if len(k.Chain) == 0 {
		return nil, errors.New("no signing certificate")
	}
	leaf := k.Chain[0]
	certHash := sha256.Sum256(leaf.Raw)
	issuerName := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: leaf.RawIssuer}
	attrs := make([]attribute, 0, 3)
	for _, a := range []struct {
		oid asn1.ObjectIdentifier
		v   any
	}{
		{oidContentType, oidData},
		{oidMessageDigest, digest},
		{oidSigningCertificateV2, signingCertificateV2{Certs: []essCertIDv2{{CertHash: certHash[:],
			IssuerSerial: issuerSerial{Issuer: []asn1.RawValue{issuerName}, Serial: leaf.SerialNumber}}}}},
	} {
		at, err := attr(a.oid, a.v)
		if err != nil {
			return nil, fmt.Errorf("signed attribute: %w", err)
		}
		attrs = append(attrs, at)
	}
	signedBytes, err := setOf(attrs, 0x31)
	if err != nil {
		return nil, err
	}
	attrsDigest := sha256.Sum256(signedBytes)
	var sigAlg pkix.AlgorithmIdentifier
	switch k.Signer.Public().(type) {
	case *rsa.PublicKey:
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue}
	case *ecdsa.PublicKey:
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}
	default:
		return nil, fmt.Errorf("unsupported key type %T", k.Signer.Public())
	}
	signature, err := k.Signer.Sign(rand.Reader, attrsDigest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	si := signerInfo{
		Version:            1,
		SID:                issuerAndSerial{Issuer: asn1.RawValue{FullBytes: leaf.RawIssuer}, Serial: leaf.SerialNumber},
		DigestAlgorithm:    sha256AlgorithmIdentifer,
		SignedAttrs:        asn1.RawValue{FullBytes: append([]byte{0xA0}, signedBytes[1:]...)},
		SignatureAlgorithm: sigAlg,
		Signature:          signature,
	}
	if ts != nil {
		sum := sha256.Sum256(signature)
		token, err := ts.Timestamp(ctx, sum[:], crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("signature timestamp: %w", err)
		}
		unsigned, err := setOf([]attribute{{Type: oidSignatureTimeStamp, Values: []asn1.RawValue{{FullBytes: token}}}}, 0xA1)
		if err != nil {
			return nil, err
		}
		si.UnsignedAttrs = asn1.RawValue{FullBytes: unsigned}
	}
	return wrapSignedData(k.Chain, si)
}

func wrapSignedData(chain []*x509.Certificate, si signerInfo) ([]byte, error) {
	var certs []byte
	for _, c := range chain {
		certs = append(certs, c.Raw...)
	}
	sd := signedData{
		Version:          1,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{sha256AlgorithmIdentifer},
		EncapContentInfo: encapContentInfo{EContentType: oidData},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: certs},
		SignerInfos:      []signerInfo{si},
	}
	sdDER, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("encode SignedData: %w", err)
	}
	return asn1.Marshal(contentInfo{ContentType: oidSignedData,
		Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sdDER}})
}
