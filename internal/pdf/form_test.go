package pdf_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
)

func TestFormFields(t *testing.T) {
	got, err := pdf.FormFields(context.Background(), pdftest.Form(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []pdf.FormField{
		{Name: "agree", Value: "true", Kind: "checkbox", Pages: []int{1}},
		{Name: "country", Value: "Norway", Kind: "choice", Options: []string{"Denmark", "Norway", "Sweden"}, Pages: []int{1}},
		{Name: "name", Value: "Ada Lovelace", Kind: "text", Pages: []int{1}},
		{Name: "note", Value: "", Kind: "text", Pages: []int{1}, Multiline: true},
		{Name: "plan", Value: "basic", Kind: "radio", Options: []string{"basic", "premium"}, Pages: []int{1}},
		{Name: "address.city", Value: "Aarhus", Kind: "text", Locked: true, Pages: []int{2}},
	}
	if !reflect.DeepEqual(got, want) {
		var g strings.Builder
		for _, f := range got {
			fmt.Fprintf(&g, "\n  %+v", f)
		}
		t.Errorf("FormFields:%s\nwant %+v", g.String(), want)
	}
}

func TestFormFieldsWithoutForm(t *testing.T) {
	got, err := pdf.FormFields(context.Background(), pdftest.Make(t, 2, 0))
	if err != nil || len(got) != 0 {
		t.Errorf("a document without a form: %v, %v", got, err)
	}
}

// TestFormFieldsButtonKinds: a button is a radio group by its /Ff radio flag, not by how many widgets
// it has: a checkbox shown in two places is a checkbox, a radio group of one option a radio group.
func TestFormFieldsButtonKinds(t *testing.T) {
	ctx := context.Background()
	doc, err := pades.AddFields(ctx, pdftest.Make(t, 2, 0), []pades.NewField{
		{Name: "twice", Kind: pades.NewCheckbox, Rects: []pades.Placement{
			{Page: 1, X: 72, Y: 440, Width: 14, Height: 14}, {Page: 2, X: 72, Y: 440, Width: 14, Height: 14}}},
		{Name: "only", Kind: pades.NewRadio, Options: []string{"Sole option"}, Rects: []pades.Placement{{Page: 1, X: 72, Y: 400, Width: 120, Height: 16}}},
		{Name: "pair", Kind: pades.NewRadio, Options: []string{"A", "B"}, Rects: []pades.Placement{{Page: 1, X: 72, Y: 340, Width: 120, Height: 32}}},
		{Name: "once", Kind: pades.NewCheckbox, Rects: []pades.Placement{{Page: 1, X: 72, Y: 300, Width: 14, Height: 14}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		values []pades.FormValue
		want   map[string]pdf.FormField
	}{
		{"unfilled", nil, map[string]pdf.FormField{
			"twice": {Name: "twice", Value: "false", Kind: "checkbox", Locked: true, Pages: []int{1, 2}},
			"only":  {Name: "only", Value: "", Kind: "radio", Options: []string{"Sole option"}, Locked: true, Pages: []int{1}},
			"pair":  {Name: "pair", Value: "", Kind: "radio", Options: []string{"A", "B"}, Locked: true, Pages: []int{1}},
			"once":  {Name: "once", Value: "false", Kind: "checkbox", Locked: true, Pages: []int{1}},
		}},
		{"filled", []pades.FormValue{
			{Field: "twice", Value: "true", Owned: true}, {Field: "only", Value: "Sole option", Owned: true},
			{Field: "pair", Value: "B", Owned: true}, {Field: "once", Value: "true", Owned: true},
		}, map[string]pdf.FormField{
			"twice": {Name: "twice", Value: "true", Kind: "checkbox", Locked: true, Pages: []int{1, 2}},
			"only":  {Name: "only", Value: "Sole option", Kind: "radio", Options: []string{"Sole option"}, Locked: true, Pages: []int{1}},
			"pair":  {Name: "pair", Value: "B", Kind: "radio", Options: []string{"A", "B"}, Locked: true, Pages: []int{1}},
			"once":  {Name: "once", Value: "true", Kind: "checkbox", Locked: true, Pages: []int{1}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := doc
			if tc.values != nil {
				if data, err = pades.FillForm(ctx, doc, tc.values); err != nil {
					t.Fatal(err)
				}
			}
			got, err := pdf.FormFields(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Errorf("FormFields lists %d fields, want %d: %+v", len(got), len(tc.want), got)
			}
			for _, g := range got {
				if w := tc.want[g.Name]; !reflect.DeepEqual(g, w) {
					t.Errorf("field %s reads back as %+v, want %+v", g.Name, g, w)
				}
			}
		})
	}
}
