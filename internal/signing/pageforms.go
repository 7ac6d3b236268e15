package signing

import (
	"context"

	"esign/internal/fault"
	"esign/internal/order"
)

// SignatoryFormFields lists the fields of one of the signatory's documents' own form, with their
// values in its current bytes, for the hosted signing page to offer. Like SignatoryDocumentBytes it
// refuses a signatory who owes a VIEW-stage login. A document whose form was not enabled at creation
// lists no fields (nil): the signatory may not fill it.
func (s *Service) SignatoryFormFields(ctx context.Context, sp SignatoryPrincipal, documentID string) ([]order.FormField, error) {
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return nil, err
	}
	if err := requireViewAccess(o, sp); err != nil {
		return nil, err
	}
	var d *order.Document
	for _, id := range o.SignatoryDocumentIDs(sig) {
		if id == documentID {
			d = o.Document(id)
		}
	}
	if d == nil {
		return nil, fault.Invalid("id", "is not one of this signatory's documents")
	}
	if d.FormEnabled == nil || !*d.FormEnabled {
		return nil, nil
	}
	b, err := s.readDocument(ctx, o, d)
	if err != nil || b.Current == nil {
		return nil, err
	}
	return s.FormFields(ctx, b)
}
