package order

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"esign/internal/fault"
)

// A signatory field is a typed mark a signatory makes on a document besides their seal: initials,
// a text, the signing date, a checkbox, a choice. The REST APIs call them fields (and anchor tags),
// the GraphQL API takes them as an extension of SignatoryDocumentInput.
//
// Every field but a signature field becomes a real form field of the document when the order is
// created (before anyone signs, since a form field added after a signature is a change validators
// do not accept, where filling one is), read-only in the document so that only the service writes
// it; the signatory's values are written into it in their own revision, just before their seal. A
// signature field is where the seal goes: a placement like pdfSealPositions.

// FieldKind is what a signatory field holds.
type FieldKind string

const (
	FieldSignature FieldKind = "signature"     // the seal, placed
	FieldInitials  FieldKind = "initials"      // a few letters the signatory types
	FieldText      FieldKind = "text"          // one line
	FieldDate      FieldKind = "date"          // the signing date, written by the service
	FieldCheckbox  FieldKind = "checkbox"      // "true" or "false"
	FieldDropdown  FieldKind = "dropdown"      // one of Options
	FieldRadio     FieldKind = "radio_buttons" // one of Options
	FieldTextArea  FieldKind = "text_area"     // several lines
)

// FieldKinds lists the kinds in the order the contracts list them.
var FieldKinds = []FieldKind{FieldSignature, FieldInitials, FieldText, FieldDate, FieldCheckbox, FieldDropdown,
	FieldRadio, FieldTextArea}

// Bounds of signatory fields.
const (
	MaxSignatoryFields  = 100  // fields of one signatory on one document
	MaxFieldLabelLen    = 100  // a field's label
	MaxFieldOptions     = 50   // options of a dropdown or radio buttons
	MaxFieldOptionLen   = 100  // one option
	MaxInitialsLen      = 10   // an initials value
	MaxFieldTextLen     = 200  // a text value
	MaxFieldTextAreaLen = 2000 // a text area value
)

// SignatoryField is one field of a signatory on one document.
type SignatoryField struct {
	Kind      FieldKind `json:"kind"`
	Placement Placement `json:"placement"`
	// Required: the signatory must fill it to sign (a checkbox: check it). A signature field is
	// always required, a date field always filled; nil until Build has applied the default.
	Required *bool    `json:"required,omitempty"`
	Label    string   `json:"label,omitempty"`
	Options  []string `json:"options,omitempty"`
	// Name is the document's form field the service created for it (none for a signature field).
	Name string `json:"name,omitempty"`
	// Copies is how many more form fields hold the same value, one per further occurrence of its
	// anchor (Name-2, Name-3, …): one field per place rather than one field with several widgets,
	// which validators do not accept being filled after a signature (widgets without names).
	Copies int `json:"copies,omitempty"`
}

// FormNames are the form fields that show the field's value: Name and its copies.
func (f SignatoryField) FormNames() []string {
	if f.Name == "" {
		return nil
	}
	out := []string{f.Name}
	for k := 2; k <= f.Copies+1; k++ {
		out = append(out, fmt.Sprintf("%s-%d", f.Name, k))
	}
	return out
}

// IsRequired says whether the field must be filled to sign.
func (f SignatoryField) IsRequired() bool { return f.Required != nil && *f.Required }

// Size is a mark's width and height in points.
type Size struct {
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// DefaultFieldSize is a field's size where its placement gives none: room for what it holds at the
// size a form's text usually has.
func DefaultFieldSize(k FieldKind) Size {
	switch k {
	case FieldSignature:
		return Size{AnchorWidth, AnchorHeight}
	case FieldInitials:
		return Size{60, 30}
	case FieldDate:
		return Size{110, 22}
	case FieldCheckbox:
		return Size{14, 14}
	case FieldRadio:
		return Size{160, 60}
	case FieldTextArea:
		return Size{250, 80}
	}
	return Size{180, 22} // text, dropdown
}

// MaxValueLen is the longest value a field of kind k takes, in characters (0: not typed).
func MaxValueLen(k FieldKind) int {
	switch k {
	case FieldInitials:
		return MaxInitialsLen
	case FieldText:
		return MaxFieldTextLen
	case FieldTextArea:
		return MaxFieldTextAreaLen
	}
	return 0
}

// checkField checks one field of a draft and applies its defaults: the kind, the placement (its
// field path set to field), the label, the options and whether it is required.
func checkField(field string, f *SignatoryField) error {
	known := false
	for _, k := range FieldKinds {
		known = known || f.Kind == k
	}
	if !known {
		names := make([]string, len(FieldKinds))
		for i, k := range FieldKinds {
			names[i] = string(k)
		}
		return fault.Invalid(field+".type", "must be one of %s, not %q", strings.Join(names, ", "), f.Kind)
	}
	f.Placement.Field = field
	size := DefaultFieldSize(f.Kind)
	f.Placement.DefaultSize = &size
	if err := f.Placement.Validate(); err != nil {
		return err
	}
	if err := checkLine(field+".label", f.Label, MaxFieldLabelLen); err != nil {
		return err
	}
	switch f.Kind {
	case FieldDropdown, FieldRadio:
		if len(f.Options) == 0 {
			return fault.Invalid(field+".options", "a %s field needs 1 to %d options, got none", f.Kind, MaxFieldOptions)
		}
		if err := checkList(field+".options", len(f.Options), MaxFieldOptions); err != nil {
			return err
		}
		seen := map[string]bool{}
		for i, o := range f.Options {
			of := fmt.Sprintf("%s.options[%d]", field, i)
			if strings.TrimSpace(o) == "" {
				return fault.Invalid(of, "must not be empty")
			}
			if err := checkLine(of, o, MaxFieldOptionLen); err != nil {
				return err
			}
			if seen[o] {
				return fault.Invalid(of, "%q is given twice", o)
			}
			seen[o] = true
		}
	default:
		if len(f.Options) > 0 {
			return fault.Invalid(field+".options", "only dropdown and radio_buttons fields have options, not %s", f.Kind)
		}
	}
	switch {
	case f.Kind == FieldSignature && f.Required != nil && !*f.Required:
		return fault.Invalid(field+".required", "a signature field is always required: signing puts the seal there")
	case f.Kind == FieldDate && f.Required != nil && !*f.Required:
		return fault.Invalid(field+".required", "a date field is always filled: the service writes the signing date")
	case f.Required == nil:
		// The REST contract's default: a signature is required, anything else is not. The date
		// is written whatever the signatory does.
		required := f.Kind == FieldSignature || f.Kind == FieldDate
		f.Required = &required
	}
	return nil
}

// checkFields checks a signatory document's fields and names the form fields the service creates
// for them (fieldName), unique in the order.
func checkFields(field string, signatoryID string, sd *SignatoryDocument) error {
	if err := checkList(field+".fields", len(sd.Fields), MaxSignatoryFields); err != nil {
		return err
	}
	for k := range sd.Fields {
		f := &sd.Fields[k]
		if err := checkField(fmt.Sprintf("%s.fields[%d]", field, k), f); err != nil {
			return err
		}
		f.Name = ""
		if f.Kind != FieldSignature {
			f.Name = fieldName(signatoryID, k)
		}
	}
	return nil
}

// fieldName is the form field created for field k of a signatory on a document: one partial name
// (no dots, which would make it a child of another field), the signatory's id keeping it apart
// from every other signatory's and, in practice, from the document's own fields.
func fieldName(signatoryID string, k int) string {
	return fmt.Sprintf("esign-%s-%d", signatoryID, k+1)
}

// HasFields says whether any signatory has a field that becomes a form field of document id.
func (o *SignatureOrder) HasFields(documentID string) bool {
	for _, s := range o.Signatories {
		for _, sd := range s.Documents {
			if sd.ID != documentID {
				continue
			}
			for _, f := range sd.Fields {
				if f.Name != "" {
					return true
				}
			}
		}
	}
	return false
}

// FieldOwner is the signatory whose field the document's form field name is (the field's Name or
// one of its copies), with the field, or nil when the name is not a signatory field of document id
// (the document's own form field).
func (o *SignatureOrder) FieldOwner(documentID, name string) (*Signatory, *SignatoryField) {
	for i := range o.Signatories {
		s := &o.Signatories[i]
		for j := range s.Documents {
			sd := &s.Documents[j]
			if sd.ID != documentID {
				continue
			}
			for k := range sd.Fields {
				for _, n := range sd.Fields[k].FormNames() {
					if n == name {
						return s, &sd.Fields[k]
					}
				}
			}
		}
	}
	return nil, nil
}

// FieldsOf is the signatory's fields on document id that take a value (all but signature fields).
func FieldsOf(s *Signatory, documentID string) []SignatoryField {
	var out []SignatoryField
	for _, sd := range s.Documents {
		if sd.ID != documentID {
			continue
		}
		for _, f := range sd.Fields {
			if f.Name != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// FieldValue is a value written into a signatory field's form field (one of its FormNames).
type FieldValue struct {
	Name  string
	Kind  FieldKind
	Value string
}

// FieldValues checks the values a signatory gives for their fields on one document (by form field
// name) and answers every field's value to write, in the fields' order, for each of its FormNames: what was given, the signing
// date for a date field, and "" (or "false") for an optional field left empty, so that each field
// shows what the signatory left in it. errField names the input of a refused value; a required
// field without one is refused naming missing (the input list the value belongs in). A value for
// another signatory's field, or a field that is not one, is the caller's to refuse.
func FieldValues(fields []SignatoryField, given map[string]string, date string, errField func(name string) string,
	missing string) ([]FieldValue, error) {
	out := make([]FieldValue, 0, len(fields))
	for _, f := range fields {
		v, ok := given[f.Name]
		label := f.Label
		if label == "" {
			label = string(f.Kind)
		}
		switch f.Kind {
		case FieldDate:
			if ok {
				return nil, fault.Invalid(errField(f.Name), "%q is a date field: the service writes the signing date in it", label)
			}
			v = date
		case FieldCheckbox:
			switch v {
			case "true", "false":
			case "":
				v = "false"
			default:
				return nil, fault.Invalid(errField(f.Name), "%q is a checkbox: its value must be \"true\" or \"false\"", label)
			}
			if f.IsRequired() && v != "true" {
				return nil, fault.Invalid(missingOr(ok, errField(f.Name), missing), "%q (%s) must be checked to sign", label, f.Name)
			}
		case FieldDropdown, FieldRadio:
			if v != "" && !contains(f.Options, v) {
				quoted := make([]string, len(f.Options))
				for i, o := range f.Options {
					quoted[i] = fmt.Sprintf("%q", o)
				}
				return nil, fault.Invalid(errField(f.Name), "%q must be one of %s", label, strings.Join(quoted, ", "))
			}
		default:
			max := MaxValueLen(f.Kind)
			if n := utf8.RuneCountInString(v); n > max {
				return nil, fault.Invalid(errField(f.Name), "%q must be at most %d characters, got %d", label, max, n)
			}
			if err := CheckText(errField(f.Name), v, max, f.Kind == FieldTextArea); err != nil {
				return nil, err
			}
		}
		if f.IsRequired() && strings.TrimSpace(v) == "" {
			return nil, fault.Invalid(missingOr(ok, errField(f.Name), missing), "%q (%s) is required: fill it to sign", label, f.Name)
		}
		for _, name := range f.FormNames() {
			out = append(out, FieldValue{Name: name, Kind: f.Kind, Value: v})
		}
	}
	return out, nil
}

func missingOr(given bool, field, missing string) string {
	if given {
		return field
	}
	return missing
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
