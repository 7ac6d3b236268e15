package signing

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf"
	"esign/internal/pdf/pades"
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
			Locked: f.Locked, Pages: f.Pages, Multiline: f.Multiline}
	}
	return out, nil
}

// DocumentForm is what a signatory fills in one document's own form when signing.
type DocumentForm struct {
	DocumentID string
	Fields     []FormValue
}

// FormValue is one field's value (the field by its fully qualified name, as FormFields lists it).
type FormValue struct {
	Field, Value string
}

// formInput is a checked DocumentForm, with the input index its errors name.
type formInput struct {
	index  int
	fields []pades.FormValue
}

// checkForms checks sign's documents input against the order before any evidence is used (a login
// code can be exchanged only once): each document is one of the signatory's, its form was enabled
// at creation, and it is named once. Whether each field exists and takes its value is the
// document's to say, when it is filled (sealDocuments).
func checkForms(o *order.SignatureOrder, sig *order.Signatory, forms []DocumentForm) (map[string]formInput, error) {
	if len(forms) == 0 {
		return nil, nil
	}
	mine := map[string]bool{}
	for _, id := range o.SignatoryDocumentIDs(sig) {
		mine[id] = true
	}
	out := map[string]formInput{}
	total := 0
	for i, f := range forms {
		field := fmt.Sprintf("documents[%d]", i)
		d := o.Document(f.DocumentID)
		switch {
		case d == nil || !mine[f.DocumentID]:
			return nil, fault.Invalid(field+".id", "is not one of this signatory's documents")
		case d.FormEnabled == nil || !*d.FormEnabled:
			return nil, fault.Invalid(field+".form", "document %s was not created with form filling enabled (pdf.form.enabled)", d.Title)
		}
		if _, dup := out[f.DocumentID]; dup {
			return nil, fault.Invalid(field+".id", "names a document given before; give each document once")
		}
		if total += len(f.Fields); total > order.MaxFormFields {
			return nil, fault.Invalid(field+".form.fields", "more than %d field values in all", order.MaxFormFields)
		}
		in := formInput{index: i}
		for _, v := range f.Fields {
			in.fields = append(in.fields, pades.FormValue{Field: v.Field, Value: v.Value})
		}
		out[f.DocumentID] = in
	}
	return out, nil
}

// formFieldError names the input a document refused a value of, or nil when err is not that.
func formFieldError(in formInput, err error) error {
	var fe *pades.FormError
	if !errors.As(err, &fe) {
		return nil
	}
	return fault.Invalid(fmt.Sprintf("documents[%d].form.fields[%d]", in.index, fe.Index), "%s %s",
		strconv.Quote(in.fields[fe.Index].Field), fe.Reason)
}
