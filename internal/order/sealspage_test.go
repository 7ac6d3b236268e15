package order

import (
	"errors"
	"testing"

	"esign/internal/fault"
)

func TestSealsPageTemplateAndDocumentIDRules(t *testing.T) {
	area := [4]float64{50, 80, 545, 400}
	tmpl := func(cols, rows *int) *SealsPageTemplateDraft {
		return &SealsPageTemplateDraft{Data: []byte("%PDF-"), Area: area, ExpectedColumns: cols, ExpectedRows: rows}
	}
	const f = "documents[0].pdf.sealsPageTemplate"
	cases := []struct {
		name   string
		mutate func(*Draft)
		field  string // "" for accepted
	}{
		{"defaults: 2 columns, rows for maxSignatories", func(d *Draft) { d.Documents[0].SealsPageTemplate = tmpl(nil, nil) }, ""},
		{"3 × 5 for 14", func(d *Draft) { d.Documents[0].SealsPageTemplate = tmpl(ptr(3), ptr(5)) }, ""},
		{"too few slots", func(d *Draft) { d.Documents[0].SealsPageTemplate = tmpl(ptr(2), ptr(2)) }, f},
		{"enough for a small order", func(d *Draft) { d.MaxSignatories = ptr(4); d.Documents[0].SealsPageTemplate = tmpl(ptr(2), ptr(2)) }, ""},
		{"zero columns", func(d *Draft) { d.Documents[0].SealsPageTemplate = tmpl(ptr(0), nil) }, f + ".expectedColumns"},
		{"too many rows", func(d *Draft) { d.Documents[0].SealsPageTemplate = tmpl(nil, ptr(MaxSealsPageRows+1)) }, f + ".expectedRows"},
		{"one row cannot hold 14 in 6 columns", func(d *Draft) { d.Documents[0].SealsPageTemplate = tmpl(nil, ptr(1)) }, f},
		{"no blob", func(d *Draft) { d.Documents[0].SealsPageTemplate = &SealsPageTemplateDraft{Area: area} }, f + ".blob"},
		{"blob over the size limit", func(d *Draft) {
			d.Documents[0].SealsPageTemplate = &SealsPageTemplateDraft{Data: make([]byte, 101), Area: area}
		}, f + ".blob"},
		{"inverted area", func(d *Draft) {
			d.Documents[0].SealsPageTemplate = &SealsPageTemplateDraft{Data: []byte("%PDF-"), Area: [4]float64{500, 80, 50, 400}}
		}, f + ".area"},
		{"displayDocumentID LEFT", func(d *Draft) { d.Documents[0].DisplayDocumentID = ptr("LEFT") }, ""},
		{"displayDocumentID lower case", func(d *Draft) { d.Documents[0].DisplayDocumentID = ptr("left") }, "documents[0].pdf.displayDocumentID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Build(draft(c.mutate), "app", testEnv())
			var fe *fault.Error
			switch {
			case c.field == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.field != "" && (!errors.As(err, &fe) || fe.Field != c.field):
				t.Errorf("got %v, want an invalid-input error on %s", err, c.field)
			}
		})
	}
}

func TestSealsPageGrid(t *testing.T) {
	cases := []struct {
		cols, rows *int
		max        int
		wantC      int
		wantR      int
	}{
		{nil, nil, 14, 2, 7},
		{nil, nil, 1, 2, 1},
		{ptr(3), nil, 14, 3, 5},
		{nil, ptr(4), 14, 4, 4},
		{ptr(1), ptr(3), 3, 1, 3},
	}
	for _, c := range cases {
		cols, rows, err := (&SealsPageTemplateDraft{ExpectedColumns: c.cols, ExpectedRows: c.rows}).SealsPageGrid("t", c.max)
		if err != nil || cols != c.wantC || rows != c.wantR {
			t.Errorf("grid(%v, %v, max %d) = %d × %d, %v; want %d × %d", c.cols, c.rows, c.max, cols, rows, err, c.wantC, c.wantR)
		}
	}
}
