package order

// FormFieldKind is what a form field holds.
type FormFieldKind string

const (
	FormText     FormFieldKind = "text"     // a line or a text area
	FormDate     FormFieldKind = "date"     // text with a date format
	FormCheckbox FormFieldKind = "checkbox" // "true" or "false"
	FormRadio    FormFieldKind = "radio"    // one of Options
	FormChoice   FormFieldKind = "choice"   // a dropdown or list: one of Options (or any text when editable)
)

// FormField is one field of a document's own form (a PDF's AcroForm), with its value now.
type FormField struct {
	Name    string // the fully qualified name, as sign's form input names it
	Value   string
	Kind    FormFieldKind
	Options []string // radio and choice fields
	Locked  bool     // read-only in the document
	Pages   []int    // 1-based pages its widgets are on
	// Multiline is a text field of several lines (a text area on the signing page).
	Multiline bool
	// The signing page's view of one of the signatory's own fields (SignatoryForm); FieldKind is
	// empty for a field of the document's own form.
	FieldKind FieldKind
	Label     string
	Required  bool
	MaxLength int // characters, 0: the document's own limit
}

// SignatoryForm is what signatory sig fills in document d, from all of the document's form fields:
// their own fields but the date (which the service writes), fillable although read-only in the
// document and with their labels and rules, and the document's own fields when its form was enabled
// at creation. Other signatories' fields are left out.
func SignatoryForm(o *SignatureOrder, sig *Signatory, d *Document, all []FormField) []FormField {
	formEnabled := d.FormEnabled != nil && *d.FormEnabled
	var out []FormField
	for _, f := range all {
		owner, field := o.FieldOwner(d.ID, f.Name)
		switch {
		case owner == nil && !formEnabled, owner != nil && owner.ID != sig.ID:
			continue
		case owner != nil:
			if field.Kind == FieldDate || f.Name != field.Name {
				continue // written by the service, or a copy that shows what Name holds
			}
			f.Locked = false
			f.FieldKind, f.Label, f.Required, f.MaxLength = field.Kind, field.Label, field.IsRequired(), MaxValueLen(field.Kind)
			if f.Label == "" {
				f.Label = string(field.Kind)
			}
		}
		out = append(out, f)
	}
	return out
}
