package pdf

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/form"
)

// FormField is one AcroForm field of a document. Kind is one of "text", "date", "checkbox",
// "radio" and "choice"; a checkbox's Value is "true" or "false", a list box's selected values are
// joined by ", ".
type FormField struct {
	Name    string
	Value   string
	Kind    string
	Options []string
	Locked  bool
	Pages   []int
	// Multiline is a text field that takes several lines (/Ff bit 13): the signing page offers a
	// text area for it.
	Multiline bool
}

// FormFields lists the fields of data's AcroForm, by first page, then by name; none when the
// document has no form. Signature fields are not form fields here (they are signatures).
func FormFields(ctx context.Context, data []byte) ([]FormField, error) {
	mctx, err := Read(ctx, data)
	if err != nil {
		return nil, err
	}
	// pdfcpu's validation pass would find the form; we do not run it on uploads, so point the
	// exporter at the catalog's /AcroForm ourselves.
	x := mctx.XRefTable
	catalog, err := x.Catalog()
	if err != nil {
		return nil, fmt.Errorf("read form fields: catalog: %w", err)
	}
	acro, err := x.DereferenceDict(catalog["AcroForm"])
	if err != nil {
		return nil, fmt.Errorf("read form fields: /AcroForm: %w", err)
	}
	if fields, _ := x.DereferenceArray(acro["Fields"]); len(fields) == 0 {
		return []FormField{}, nil
	}
	x.Form = acro
	if err := x.EnsurePageCount(); err != nil {
		return nil, fmt.Errorf("read form fields: pages: %w", err)
	}
	var group *form.FormGroup
	var ok bool
	_, err = guard(func() (struct{}, error) {
		var gerr error
		group, ok, gerr = form.ExportForm(x, "")
		return struct{}{}, gerr
	})
	if err != nil {
		return nil, fmt.Errorf("read form fields: %w", err)
	}
	if !ok || group == nil || len(group.Forms) == 0 {
		return []FormField{}, nil
	}
	f := group.Forms[0]
	var out []FormField
	add := func(name, id, value, kind string, options []string, locked bool, pages []int) {
		if name == "" {
			name = id
		}
		pages = append([]int(nil), pages...)
		sort.Ints(pages)
		out = append(out, FormField{Name: name, Value: value, Kind: kind, Options: options, Locked: locked, Pages: pages})
	}
	for _, t := range f.TextFields {
		add(t.Name, t.ID, t.Value, "text", nil, t.Locked, t.Pages)
		out[len(out)-1].Multiline = t.Multiline
	}
	for _, d := range f.DateFields {
		add(d.Name, d.ID, d.Value, "date", nil, d.Locked, d.Pages)
	}
	for _, c := range f.CheckBoxes {
		add(c.Name, c.ID, strconv.FormatBool(c.Value), "checkbox", nil, c.Locked, c.Pages)
	}
	for _, r := range f.RadioButtonGroups {
		add(r.Name, r.ID, r.Value, "radio", r.Options, r.Locked, r.Pages)
	}
	for _, c := range f.ComboBoxes {
		add(c.Name, c.ID, c.Value, "choice", c.Options, c.Locked, c.Pages)
	}
	for _, l := range f.ListBoxes {
		add(l.Name, l.ID, strings.Join(l.Values, ", "), "choice", l.Options, l.Locked, l.Pages)
	}
	sort.SliceStable(out, func(i, j int) bool {
		pi, pj := firstPage(out[i].Pages), firstPage(out[j].Pages)
		if pi != pj {
			return pi < pj
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func firstPage(pages []int) int {
	if len(pages) == 0 {
		return 0
	}
	return pages[0]
}
