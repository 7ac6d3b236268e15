package signing

import (
	"context"
	"fmt"

	"esign/internal/order"
	"esign/internal/pdf/pades"
)

// SignatureView is one signature this service made on a document, read back from the PDF (the
// evidence stays in the encrypted PDF, not in the database), with the signatory who made it.
type SignatureView struct {
	pades.SignatureInfo
	SignatoryID string
}

// Signatures lists the signatures the order's signatories made on a document, oldest first, read
// from its current bytes (signatures the document carried before upload are not listed). The caller
// has already been allowed to read the bytes. Reading parses the PDF, so it waits for room in the
// process's PDF memory budget like intake and sealing do.
func (s *Service) Signatures(ctx context.Context, b DocumentBytes) ([]SignatureView, error) {
	if len(b.SignedBy) == 0 {
		return []SignatureView{}, nil // nothing was signed here (earlier signatures are not ours to report)
	}
	ctx, release, err := s.cfg.PDFAdmission.Admit(ctx, b.Current)
	if err != nil {
		return nil, err
	}
	defer release()
	infos, err := pades.ReadSignatures(ctx, b.Current)
	if err != nil {
		return nil, fmt.Errorf("read signatures: %w", err)
	}
	var approvals []pades.SignatureInfo
	for _, in := range infos {
		if !in.DocumentTimestamp {
			approvals = append(approvals, in)
		}
	}
	// Our signatures are the last ones, one per signed version, in order.
	offset := len(approvals) - len(b.SignedBy)
	if offset < 0 {
		return nil, fmt.Errorf("%d signatures but %d signed versions", len(approvals), len(b.SignedBy))
	}
	out := make([]SignatureView, len(b.SignedBy))
	for i, signer := range b.SignedBy {
		out[i] = SignatureView{SignatureInfo: approvals[offset+i], SignatoryID: signer}
	}
	return out, nil
}

// signers are the signatories who signed versions up to the current one, oldest first.
func signers(d *order.Document) []string {
	var out []string
	for _, v := range d.Versions {
		if v.SignedBy != "" {
			out = append(out, v.SignedBy)
		}
	}
	return out
}
