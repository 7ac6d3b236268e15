package order

import "fmt"

// SetSealsPageTemplate records a document's seals page template layout once the service's PDF
// checks have accepted the template (the grid as SealsPageGrid derived it), and checks the order's
// size again with it: Build measured the order before the templates were known. The template's
// blob is recorded by the service when it has stored it.
func (o *SignatureOrder) SetSealsPageTemplate(documentID string, area [4]float64, columns, rows int) error {
	d := o.Document(documentID)
	if d == nil {
		return fmt.Errorf("seals page template for unknown document %q", documentID)
	}
	d.SealsPageTemplate = &SealsPageTemplate{Area: area, Columns: columns, Rows: rows}
	return o.checkSize()
}
