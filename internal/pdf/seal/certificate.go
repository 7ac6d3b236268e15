package seal

import (
	"context"
	"fmt"
	"time"

	"esign/internal/pdf/pades"
)

// CertificateReason is the /Reason of a completion certificate's signature.
const CertificateReason = "Completion certificate"

// SealCertificate signs a rendered completion certificate (package certificate) with the service's
// seal, invisibly, and the TSA's signature timestamp, at. It is the service's own statement, not a
// signatory's, so it carries no evidence and no seals page: the Finalizer then adds the DSS and the
// document timestamp, as for the documents (PAdES B-LTA).
func (s *Sealer) SealCertificate(ctx context.Context, pdf []byte, at time.Time) ([]byte, error) {
	ctx, release, err := s.Admission.Admit(ctx, pdf)
	if err != nil {
		return nil, fmt.Errorf("seal completion certificate: %w", err)
	}
	defer release()
	name := ""
	if len(s.Key.Chain) > 0 {
		name = s.Key.Chain[0].Subject.CommonName
	}
	out, err := pades.Sign(ctx, pdf, s.Key, s.TSA, pades.Signature{Name: name, Reason: CertificateReason, Time: at})
	if err != nil {
		return nil, fmt.Errorf("seal completion certificate: %w", err)
	}
	return out, nil
}
