package pdf_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"esign/internal/pdf"
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
