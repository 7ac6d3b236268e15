// Package seal is the document sealer the signing service uses: it turns a signature's evidence into
// a PAdES signature of the service's sealing identity, timestamped by the configured TSA.
package seal

import (
	"context"
	"fmt"

	"esign/internal/pdf/pades"
	"esign/internal/signing"
)

// Sealer implements signing.DocumentSealer.
type Sealer struct {
	Key pades.Key
	TSA pades.Timestamper
}

var _ signing.DocumentSealer = (*Sealer)(nil)

// Seal signs pdf for one signatory. The evidence goes into /ContactInfo as the contract's JSON.
// (The visible seals page comes later; the signature is invisible for now.)
func (s *Sealer) Seal(ctx context.Context, pdf []byte, req signing.SealRequest) ([]byte, error) {
	contact, err := req.Evidence.ContactInfo()
	if err != nil {
		return nil, err
	}
	out, err := pades.Sign(ctx, pdf, s.Key, s.TSA, pades.Signature{
		Name: req.SignatoryName, Reason: "Signed", ContactInfo: contact, Time: req.Time,
	})
	if err != nil {
		return nil, fmt.Errorf("seal document %s: %w", req.DocumentID, err)
	}
	return out, nil
}

// Finalizer implements signing.DocumentFinalizer: at close, a document timestamp over the signed
// document. (The DSS with certificates and OCSP/CRL answers that completes PAdES B-LTA comes with
// the revocation services.)
type Finalizer struct {
	TSA pades.Timestamper
}

var _ signing.DocumentFinalizer = (*Finalizer)(nil)

// Finalize adds the document timestamp.
func (f *Finalizer) Finalize(ctx context.Context, pdf []byte) ([]byte, error) {
	out, err := pades.DocumentTimestamp(ctx, pdf, f.TSA)
	if err != nil {
		return nil, fmt.Errorf("document timestamp: %w", err)
	}
	return out, nil
}
