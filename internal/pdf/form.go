package pdf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/form"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
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
	// pdfcpu calls a button with more than one widget a radio group and any other a checkbox; the
	// field's radio flag says which it is (a checkbox may show in several places, a radio group may
	// have a single option).
	for _, c := range f.CheckBoxes {
		if b, err := readButton(x, c.ID); err != nil {
			return nil, fmt.Errorf("read form fields: %s: %w", c.Name, err)
		} else if b.radio {
			add(c.Name, c.ID, b.value, "radio", b.options, c.Locked, c.Pages)
			continue
		}
		add(c.Name, c.ID, strconv.FormatBool(c.Value), "checkbox", nil, c.Locked, c.Pages)
	}
	for _, r := range f.RadioButtonGroups {
		if b, err := readButton(x, r.ID); err != nil {
			return nil, fmt.Errorf("read form fields: %s: %w", r.Name, err)
		} else if !b.radio {
			add(r.Name, r.ID, strconv.FormatBool(b.value != ""), "checkbox", nil, r.Locked, r.Pages)
			continue
		}
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

// Button field flags (ISO 32000-1, 12.7.4.2.1).
const (
	buttonRadio = 1 << 15
	// maxFieldDepth bounds the walk up a field's /Parent chain (pdfcpu's own walks stop at 100).
	maxFieldDepth = 32
)

// button is a button field as its dictionary says: whether it is a radio group, its value (the
// chosen on state, "" for none) and, for a radio group, its options (the widgets' on states).
type button struct {
	radio   bool
	value   string
	options []string
}

// readButton reads the button field that pdfcpu's export calls id (the object numbers from the
// root field down, joined by dots).
func readButton(x *model.XRefTable, id string) (button, error) {
	nr, err := strconv.Atoi(id[strings.LastIndex(id, ".")+1:])
	if err != nil {
		return button{}, fmt.Errorf("field id %q: %w", id, err)
	}
	gen := 0
	if e, ok := x.Find(nr); ok && e.Generation != nil {
		gen = *e.Generation
	}
	field, err := x.DereferenceDict(*types.NewIndirectRef(nr, gen))
	if err != nil || field == nil {
		return button{}, fmt.Errorf("field object %d unreadable: %w", nr, errors.Join(err, errors.New("not a dictionary")))
	}
	var b button
	// /Ff and /V are inheritable: the nearest of the field and its ancestors that has one.
	var flags, value types.Object
	d := field
	for depth := 0; d != nil && depth < maxFieldDepth && (flags == nil || value == nil); depth++ {
		if flags == nil {
			flags = d["Ff"]
		}
		if value == nil {
			value = d["V"]
		}
		if d, err = x.DereferenceDict(d["Parent"]); err != nil {
			break
		}
	}
	if ff, err := x.DereferenceInteger(flags); err == nil && ff != nil {
		b.radio = ff.Value()&buttonRadio != 0
	}
	if o, err := x.Dereference(value); err == nil {
		if v, ok := o.(types.Name); ok && v != "Off" {
			b.value = v.Value()
		}
	}
	if !b.radio {
		return b, nil
	}
	// The options are the on states of the widgets: the kids that are no fields of their own (no
	// /T), or the field itself when it is merged with its only widget.
	widgets := []types.Dict{field}
	if kids, err := x.DereferenceArray(field["Kids"]); err == nil && len(kids) > 0 {
		widgets = widgets[:0]
		for _, k := range kids {
			if w, err := x.DereferenceDict(k); err == nil && w != nil && w["T"] == nil {
				widgets = append(widgets, w)
			}
		}
	}
	for _, w := range widgets {
		ap, _ := x.DereferenceDict(w["AP"])
		n, _ := x.DereferenceDict(ap["N"])
		states := make([]string, 0, len(n))
		for k := range n {
			if k != "Off" && !slices.Contains(b.options, k) {
				states = append(states, k)
			}
		}
		sort.Strings(states) // a widget has one on state; should it have more, in a stable order
		b.options = append(b.options, states...)
	}
	return b, nil
}
