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
}
