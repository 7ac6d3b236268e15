package signing

import (
	"context"
	"errors"
	"fmt"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf"
	"esign/internal/pdf/pades"
)

// newFieldKinds is the form field each kind of signatory field is created as. Initials and the
// date are one-line text fields: the date is written by the service, initials typed.
var newFieldKinds = map[order.FieldKind]pades.NewFieldKind{
	order.FieldInitials: pades.NewText,
	order.FieldText:     pades.NewText,
	order.FieldDate:     pades.NewText,
	order.FieldTextArea: pades.NewTextArea,
	order.FieldCheckbox: pades.NewCheckbox,
	order.FieldDropdown: pades.NewDropdown,
	order.FieldRadio:    pades.NewRadio,
}

// createFields creates every signatory's fields on document doc as read-only form fields of data
// (the document as it is stored at intake), in one incremental update, and answers the new bytes:
// one form field per place the field goes (an anchor's every occurrence), so that filling each is
// "filling in a form" to a validator.
// Placements are resolved on data: a percent placement on its page, an anchor at every occurrence
// of its text. A field whose anchor text is absent and may be ignored is not created, and loses its
// form field name in o, so that nobody is asked to fill it.
func (s *Service) createFields(ctx context.Context, o *order.SignatureOrder, doc *order.Document, data []byte) ([]byte, error) {
	type planned struct {
		field     *order.SignatoryField
		placement order.Placement
	}
	var plan []planned
	var texts []string
	for si := range o.Signatories {
		sig := &o.Signatories[si]
		for j := range sig.Documents {
			sd := &sig.Documents[j]
			if sd.ID != doc.ID {
				continue
			}
			placements := order.FieldPlacements(fmt.Sprintf("signatories[%d].documents[%d]", si, j), *sd)
			k := 0
			for fi := range sd.Fields {
				if sd.Fields[fi].Kind == order.FieldSignature {
					continue
				}
				p := placements[k]
				k++
				plan = append(plan, planned{field: &sd.Fields[fi], placement: p})
				if p.Anchor != nil {
					texts = append(texts, p.Anchor.Text)
				}
			}
		}
	}
	layout, err := s.layoutOf(ctx, doc, data, texts, "")
	if err != nil {
		return nil, err
	}
	var fields []pades.NewField
	var paths []string
	for _, p := range plan {
		rects, err := order.ResolvePlacements([]order.Placement{p.placement}, layoutPages{layout}, layoutPages{layout})
		if err != nil {
			return nil, err
		}
		if len(rects) == 0 {
			p.field.Name = ""
			continue
		}
		// One form field per place (FormNames): Name at the first, its copies at the others.
		p.field.Copies = len(rects) - 1
		tooltip := p.field.Label
		if tooltip == "" {
			tooltip = string(p.field.Kind)
		}
		for k, name := range p.field.FormNames() {
			r := rects[k]
			fields = append(fields, pades.NewField{Name: name, Kind: newFieldKinds[p.field.Kind], Tooltip: tooltip,
				Options: p.field.Options, MaxLen: order.MaxValueLen(p.field.Kind),
				Rects: []pades.Placement{{Page: r.Page, X: r.X, Y: r.Y, Width: r.Width, Height: r.Height}}})
			paths = append(paths, p.placement.Field)
		}
	}
	if len(fields) == 0 {
		return data, nil
	}
	out, err := pades.AddFields(ctx, data, fields)
	if err != nil {
		var fe *pades.FieldError
		if errors.As(err, &fe) && fe.Index >= 0 && fe.Index < len(paths) {
			return nil, fault.Invalid(paths[fe.Index], "%s", fe.Reason)
		}
		var problem *pdf.Problem
		if errors.As(err, &problem) {
			return nil, fault.Invalid("", "Document %s %s", doc.Title, problem.Reason)
		}
		return nil, fmt.Errorf("create the fields of document %s: %w", doc.ID, err)
	}
	s.log.InfoContext(ctx, "signatory fields created at intake", "document", doc.ID, "fields", len(fields),
		"bytes_before", len(data), "bytes_after", len(out))
	return out, nil
}
