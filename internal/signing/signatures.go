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

// DocumentSignatures lists the signatures the order's signatories made on a document, oldest first
// (signatures the document carried before upload are not listed); nil when the document is unknown
// to the caller or deleted.
func (s *Service) DocumentSignatures(ctx context.Context, p Principal, orderID, documentID string, current []byte) ([]SignatureView, error) {
	o, err := s.Order(ctx, p, orderID)
	if err != nil || o == nil {
		return nil, err
	}
	d := o.Document(documentID)
	if d == nil || d.Current() == nil {
		return nil, nil
	}
	return documentSignatures(ctx, d, current)
}

func documentSignatures(ctx context.Context, d *order.Document, current []byte) ([]SignatureView, error) {
	var signers []string
	for _, v := range d.Versions {
		if v.SignedBy != "" {
			signers = append(signers, v.SignedBy)
		}
	}
	if len(signers) == 0 {
		return []SignatureView{}, nil // nothing was signed here (earlier signatures are not ours to report)
	}
	infos, err := pades.ReadSignatures(ctx, current)
	if err != nil {
		return nil, fmt.Errorf("read signatures of document %s: %w", d.ID, err)
	}
	var approvals []pades.SignatureInfo
	for _, in := range infos {
		if !in.DocumentTimestamp {
			approvals = append(approvals, in)
		}
	}
	// Our signatures are the last ones, one per signed version, in order.
	offset := len(approvals) - len(signers)
	if offset < 0 {
		return nil, fmt.Errorf("document %s has %d signatures but %d signed versions", d.ID, len(approvals), len(signers))
	}
	out := make([]SignatureView, len(signers))
	for i, signer := range signers {
		out[i] = SignatureView{SignatureInfo: approvals[offset+i], SignatoryID: signer}
	}
	return out, nil
}
