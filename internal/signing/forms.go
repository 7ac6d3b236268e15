package signing

import (
	"context"
	"fmt"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf"
)

// FormFields lists the fields of a document's own form with their values in its current bytes
// (filled in by the signatures so far). The caller has already been allowed to read the bytes.
// Reading parses the PDF, so it waits for room in the PDF memory budget like intake does.
func (s *Service) FormFields(ctx context.Context, b DocumentBytes) ([]order.FormField, error) {
	if b.Current == nil {
		return nil, nil
	}
	ctx, release, err := s.cfg.PDFAdmission.Admit(ctx, b.Current)
	if err != nil {
		return nil, err
	}
	defer release()
	fields, err := pdf.FormFields(ctx, b.Current)
	if err != nil {
		return nil, fmt.Errorf("read form fields: %w", err)
	}
	if len(fields) > order.MaxFormFields {
		// Listed whole or not at all: the GraphQL cost model prices a form at this many fields.
		return nil, fault.Invalid("", "the document's form has %d fields, more than the limit of %d", len(fields), order.MaxFormFields)
	}
	out := make([]order.FormField, len(fields))
	for i, f := range fields {
		out[i] = order.FormField{Name: f.Name, Value: f.Value, Kind: order.FormFieldKind(f.Kind), Options: f.Options,
			Locked: f.Locked, Pages: f.Pages}
	}
	return out, nil
}
