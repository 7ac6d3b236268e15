package order

import (
	"strings"
	"testing"

	"esign/internal/fault"
)

func at(page int, x, y float64) Placement {
	return Placement{Percent: &PercentPlacement{Page: page, X: x, Y: y}}
}

// withFields is a draft with one signatory who has fields on the document "a".
func withFields(fields ...SignatoryField) Draft {
	return draft(func(d *Draft) {
		d.Signatories = []SignatoryDraft{{Documents: []SignatoryDocument{{ID: "a", Fields: fields}}}}
	})
}

func TestBuildFields(t *testing.T) {
	o, err := Build(withFields(
		SignatoryField{Kind: FieldSignature, Placement: at(1, 10, 80)},
		SignatoryField{Kind: FieldInitials, Placement: at(1, 10, 10), Label: "Initials"},
		SignatoryField{Kind: FieldDate, Placement: at(1, 50, 10)},
		SignatoryField{Kind: FieldRadio, Placement: at(1, 10, 40), Options: []string{"Yes", "No"}, Required: ptr(true)},
	), "app", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	sig := &o.Signatories[0]
	fields := sig.Documents[0].Fields
	checks := []struct {
		name      string
		got, want any
	}{
		{"signature field has no form field", fields[0].Name, ""},
		{"signature field is required", fields[0].IsRequired(), true},
		{"initials form field", fields[1].Name, "esign-" + sig.ID + "-2"},
		{"initials optional by default", fields[1].IsRequired(), false},
		{"date always filled", fields[2].IsRequired(), true},
		{"radio required as given", fields[3].IsRequired(), true},
		{"default size applied", *fields[1].Placement.DefaultSize, DefaultFieldSize(FieldInitials)},
		{"fields that take a value", len(FieldsOf(sig, o.Documents[0].ID)), 3},
		{"the seal is placed by the signature field", len(PlacementsOf("s", sig.Documents[0])), 1},
		{"form fields are placed", len(FieldPlacements("s", sig.Documents[0])), 3},
		{"order has fields on the document", o.HasFields(o.Documents[0].ID), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if owner, f := o.FieldOwner(o.Documents[0].ID, fields[1].Name); owner == nil || owner.ID != sig.ID || f.Kind != FieldInitials {
		t.Errorf("FieldOwner(%s) = %v, %v", fields[1].Name, owner, f)
	}
	if owner, _ := o.FieldOwner(o.Documents[0].ID, "the document's own field"); owner != nil {
		t.Errorf("a name that is no signatory's field has owner %s", owner.ID)
	}
}

func TestBuildFieldRules(t *testing.T) {
	long := strings.Repeat("x", MaxFieldLabelLen+1)
	cases := []struct {
		name  string
		draft Draft
		field string
		want  string
	}{
		{"unknown kind", withFields(SignatoryField{Kind: "stamp", Placement: at(1, 1, 1)}),
			"signatories[0].documents[0].fields[0].type", `must be one of signature, initials, text, date, checkbox, dropdown, radio_buttons, text_area, not "stamp"`},
		{"no placement", withFields(SignatoryField{Kind: FieldText}),
			"signatories[0].documents[0].fields[0]", "exactly one of points, percent or anchor text, got 0"},
		{"percent out of the page", withFields(SignatoryField{Kind: FieldText, Placement: at(1, 101, 1)}),
			"signatories[0].documents[0].fields[0].x", "must be from 0 to 100"},
		{"dropdown without options", withFields(SignatoryField{Kind: FieldDropdown, Placement: at(1, 1, 1)}),
			"signatories[0].documents[0].fields[0].options", "needs 1 to 50 options, got none"},
		{"options twice", withFields(SignatoryField{Kind: FieldRadio, Placement: at(1, 1, 1), Options: []string{"A", "A"}}),
			"signatories[0].documents[0].fields[0].options[1]", `"A" is given twice`},
		{"options on text", withFields(SignatoryField{Kind: FieldText, Placement: at(1, 1, 1), Options: []string{"A"}}),
			"signatories[0].documents[0].fields[0].options", "only dropdown and radio_buttons fields have options"},
		{"optional signature", withFields(SignatoryField{Kind: FieldSignature, Placement: at(1, 1, 1), Required: ptr(false)}),
			"signatories[0].documents[0].fields[0].required", "always required"},
		{"optional date", withFields(SignatoryField{Kind: FieldDate, Placement: at(1, 1, 1), Required: ptr(false)}),
			"signatories[0].documents[0].fields[0].required", "always filled"},
		{"label too long", withFields(SignatoryField{Kind: FieldText, Placement: at(1, 1, 1), Label: long}),
			"signatories[0].documents[0].fields[0].label", "at most 100 characters"},
		{"label with a control character", withFields(SignatoryField{Kind: FieldText, Placement: at(1, 1, 1), Label: "a\x1bb"}),
			"signatories[0].documents[0].fields[0].label", "control character"},
		{"fields of a viewer", draft(func(d *Draft) {
			d.Signatories = []SignatoryDraft{{SignatoryRole: ptr(RoleViewer),
				Documents: []SignatoryDocument{{ID: "a", Fields: []SignatoryField{{Kind: FieldText, Placement: at(1, 1, 1)}}}}}}
		}), "signatories[0].documents[0].fields", "only a SIGNER fills fields"},
		{"placed for some signatories only", draft(func(d *Draft) {
			d.Signatories = []SignatoryDraft{
				{Documents: []SignatoryDocument{{ID: "a", Fields: []SignatoryField{{Kind: FieldSignature, Placement: at(1, 1, 1)}}}}},
				{},
			}
		}), "signatories", "pdfSealPositions given for some signatory documents must be given for all of them (a signature field counts as one)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Build(c.draft, "app", testEnv())
			de, ok := fault.As(err)
			if !ok || de.Code != fault.CodeInvalid || de.Field != c.field || !strings.Contains(de.Message, c.want) {
				t.Fatalf("error = %v, want INVALID %s: …%s…", err, c.field, c.want)
			}
		})
	}
}

func TestFieldsOnlyAtCreation(t *testing.T) {
	o, err := Build(withFields(SignatoryField{Kind: FieldText, Placement: at(1, 1, 1)}), "app", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	doc := o.Documents[0].ID
	_, err = o.AddSignatories("input.signatories", []SignatoryDraft{{Documents: []SignatoryDocument{{ID: doc,
		Fields: []SignatoryField{{Kind: FieldText, Placement: at(1, 1, 1)}}}}}}, testEnv(), false)
	if de, ok := fault.As(err); !ok || de.Field != "input.signatories[0].documents[0].fields" || !strings.Contains(de.Message, "only when the order is created") {
		t.Fatalf("adding a signatory with fields: %v", err)
	}
	// Changing the signatory's documents keeps the fields created for it on a document it keeps.
	sig := &o.Signatories[0]
	name := sig.Documents[0].Fields[0].Name
	if err := o.applySignatoryDraft("input", sig, SignatoryDraft{Documents: []SignatoryDocument{{ID: doc, Preapproved: true}}}, false); err != nil {
		t.Fatal(err)
	}
	if got := sig.Documents[0].Fields; len(got) != 1 || got[0].Name != name || !sig.Documents[0].Preapproved {
		t.Fatalf("after the change the signatory's document is %+v", sig.Documents[0])
	}
}

func TestFieldValues(t *testing.T) {
	fields := []SignatoryField{
		{Kind: FieldInitials, Name: "i", Label: "Initials", Required: ptr(true)},
		{Kind: FieldDate, Name: "d", Required: ptr(true)},
		{Kind: FieldCheckbox, Name: "c", Label: "I agree", Required: ptr(true)},
		{Kind: FieldDropdown, Name: "p", Label: "Plan", Options: []string{"Basic", "Pro"}, Required: ptr(false)},
		{Kind: FieldTextArea, Name: "n", Label: "Note", Required: ptr(false)},
	}
	path := func(name string) string { return "documents[0].form.fields." + name }
	good := map[string]string{"i": "ÅØ", "c": "true", "p": "Pro"}
	got, err := FieldValues(fields, good, "2026-12-01", path, "documents")
	if err != nil {
		t.Fatal(err)
	}
	want := []FieldValue{{"i", FieldInitials, "ÅØ"}, {"d", FieldDate, "2026-12-01"}, {"c", FieldCheckbox, "true"},
		{"p", FieldDropdown, "Pro"}, {"n", FieldTextArea, ""}}
	if len(got) != len(want) {
		t.Fatalf("values = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "\x00delete" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name  string
		given map[string]string
		field string
		want  string
	}{
		{"required initials empty", with("i", " "), path("i"), `"Initials" (i) is required`},
		{"required initials not given", with("i", "\x00delete"), "documents", `"Initials" (i) is required`},
		{"initials too long", with("i", strings.Repeat("A", MaxInitialsLen+1)), path("i"), "at most 10 characters, got 11"},
		{"a date given", with("d", "1999-01-01"), path("d"), "the service writes the signing date"},
		{"required checkbox unchecked", with("c", "false"), path("c"), `"I agree" (c) must be checked`},
		{"checkbox not a boolean", with("c", "yes"), path("c"), `must be "true" or "false"`},
		{"option not offered", with("p", "Gold"), path("p"), `"Plan" must be one of "Basic", "Pro"`},
		{"line break in a line", with("i", "A\nB"), path("i"), "control character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := FieldValues(fields, c.given, "2026-12-01", path, "documents")
			de, ok := fault.As(err)
			if !ok || de.Field != c.field || !strings.Contains(de.Message, c.want) {
				t.Fatalf("error = %v, want %s: …%s…", err, c.field, c.want)
			}
		})
	}
	// A text area keeps its line breaks.
	if _, err := FieldValues(fields, with("n", "one\ntwo"), "2026-12-01", path, "documents"); err != nil {
		t.Fatalf("a text area with two lines: %v", err)
	}
}

func TestSignatoryForm(t *testing.T) {
	o, err := Build(draft(func(d *Draft) {
		d.Signatories = []SignatoryDraft{
			{Documents: []SignatoryDocument{{ID: "a", Fields: []SignatoryField{
				{Kind: FieldText, Placement: at(1, 1, 1), Label: "City", Required: ptr(true)},
				{Kind: FieldDate, Placement: at(1, 1, 5)},
			}}}},
			{Documents: []SignatoryDocument{{ID: "a", Fields: []SignatoryField{{Kind: FieldInitials, Placement: at(1, 1, 9)}}}}},
		}
	}), "app", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	d := &o.Documents[0]
	first, second := &o.Signatories[0], &o.Signatories[1]
	all := []FormField{
		{Name: "own", Kind: FormText},
		{Name: first.Documents[0].Fields[0].Name, Kind: FormText, Locked: true},
		{Name: first.Documents[0].Fields[1].Name, Kind: FormText, Locked: true},
		{Name: second.Documents[0].Fields[0].Name, Kind: FormText, Locked: true},
	}
	names := func(fs []FormField) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Name)
		}
		return strings.Join(out, ",")
	}
	got := SignatoryForm(o, first, d, all)
	if names(got) != all[1].Name {
		t.Fatalf("without the document's form, the first signatory fills %s, want only their text field", names(got))
	}
	if f := got[0]; f.Locked || f.Label != "City" || !f.Required || f.MaxLength != MaxFieldTextLen || f.FieldKind != FieldText {
		t.Errorf("their field as the page shows it: %+v", f)
	}
	d.FormEnabled = ptr(true)
	if got := names(SignatoryForm(o, second, d, all)); got != "own,"+all[3].Name {
		t.Errorf("with the document's form, the second signatory fills %s", got)
	}
}
