package signing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

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

// formInput is what is written into one document's form before the signatory's seal: the values
// of the document's own form and of the signatory's fields, with the input path each is named by.
type formInput struct {
	fields []pades.FormValue
	paths  []string
}

// checkForms checks sign's documents input against the order before any evidence is used (a login
// code can be exchanged only once): each document is one of the signatory's, named once; a value
// for the document's own form needs the form enabled at creation; a value for a signatory field must
// be the signatory's own, and their fields on each document get their values (FieldValues: the
// signing date, required ones filled). Whether each value of the document's own form fits its field
// is the document's to say, when it is filled (sealDocuments).
func checkForms(o *order.SignatureOrder, sig *order.Signatory, forms []DocumentForm, now time.Time) (map[string]formInput, error) {
	mine := map[string]bool{}
	for _, id := range o.SignatoryDocumentIDs(sig) {
		mine[id] = true
	}
	out := map[string]formInput{}
	given := map[string]map[string]string{} // document → field name → value, for the signatory's fields
	paths := map[string]map[string]string{}
	documentPath := map[string]string{}
	total := 0
	for i, f := range forms {
		field := fmt.Sprintf("documents[%d]", i)
		d := o.Document(f.DocumentID)
		if d == nil || !mine[f.DocumentID] {
			return nil, fault.Invalid(field+".id", "is not one of this signatory's documents")
		}
		if role := sig.DocumentRole(d.ID); role != order.RoleSigner {
			// Only the documents the signatory signs get their revision: values for another would be lost.
			verb := map[order.Role]string{order.RoleViewer: "view", order.RoleApprover: "approve"}[role]
			return nil, fault.Invalid(field+".id", "document %s is this signatory's to %s, not to sign: nothing is written in it", d.Title, verb)
		}
		if _, dup := documentPath[f.DocumentID]; dup {
			return nil, fault.Invalid(field+".id", "names a document given before; give each document once")
		}
		documentPath[f.DocumentID] = field
		if total += len(f.Fields); total > order.MaxFormFields {
			return nil, fault.Invalid(field+".form.fields", "more than %d field values in all", order.MaxFormFields)
		}
		in := formInput{}
		given[d.ID], paths[d.ID] = map[string]string{}, map[string]string{}
		for j, v := range f.Fields {
			path := fmt.Sprintf("%s.form.fields[%d]", field, j)
			owner, own := o.FieldOwner(d.ID, v.Field)
			switch {
			case owner != nil && owner.ID != sig.ID:
				return nil, fault.Invalid(path, "%s is another signatory's field", strconv.Quote(v.Field))
			case owner != nil && own.Name != v.Field:
				return nil, fault.Invalid(path, "%s shows the value of %s: give it there", strconv.Quote(v.Field), strconv.Quote(own.Name))
			case owner != nil:
				if _, dup := given[d.ID][v.Field]; dup {
					return nil, fault.Invalid(path, "%s is given twice", strconv.Quote(v.Field))
				}
				given[d.ID][v.Field], paths[d.ID][v.Field] = v.Value, path
			case d.FormEnabled == nil || !*d.FormEnabled:
				return nil, fault.Invalid(field+".form", "document %s was not created with form filling enabled (pdf.form.enabled)", d.Title)
			default:
				in.fields = append(in.fields, pades.FormValue{Field: v.Field, Value: v.Value})
				in.paths = append(in.paths, path)
			}
		}
		out[d.ID] = in
	}
	date := now.In(orderLocation(o)).Format("2006-01-02")
	for _, id := range o.SignatoryDocumentIDs(sig) {
		fields := order.FieldsOf(sig, id)
		if len(fields) == 0 {
			continue
		}
		missing := "documents"
		if p, ok := documentPath[id]; ok {
			missing = p + ".form.fields"
		}
		values, err := order.FieldValues(fields, given[id], date, func(name string) string { return paths[id][name] }, missing)
		if err != nil {
			return nil, err
		}
		in := out[id]
		for _, v := range values {
			in.fields = append(in.fields, pades.FormValue{Field: v.Name, Value: v.Value, Owned: true})
			path := paths[id][v.Name]
			if path == "" {
				path = missing
			}
			in.paths = append(in.paths, path)
		}
		out[id] = in
	}
	return out, nil
}

// orderLocation is the order's time zone (UTC when it has none or it does not load).
func orderLocation(o *order.SignatureOrder) *time.Location {
	if o.Timezone != "" {
		if loc, err := time.LoadLocation(o.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// formFieldError names the input a document refused a value of, or nil when err is not that.
func formFieldError(in formInput, err error) error {
	var fe *pades.FormError
	if !errors.As(err, &fe) || fe.Index < 0 || fe.Index >= len(in.fields) {
		return nil
	}
	return fault.Invalid(in.paths[fe.Index], "%s %s", strconv.Quote(in.fields[fe.Index].Field), fe.Reason)
}
