package signing_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/signing"
	"esign/internal/tenant"
)

// formSealer records the form values and placements each seal was asked for.
type formSealer struct {
	mu         sync.Mutex
	forms      [][]pades.FormValue
	placements [][]seal.Placement
}

func (s *formSealer) Seal(_ context.Context, data []byte, req seal.Request) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forms = append(s.forms, req.Form)
	s.placements = append(s.placements, req.Placements)
	return append(append([]byte(nil), data...), "\n% sealed\n"...), nil
}

func percent(page int, x, y float64) order.Placement {
	return order.Placement{Percent: &order.PercentPlacement{Page: page, X: x, Y: y}}
}

// fieldsOrder creates an order of one two-page document (pdftest's, with "Test document" on each
// page) where the first signatory has a placed signature, initials at every "Test document", a
// required text, the date and a required checkbox, and the second a text of their own.
func fieldsOrder(t *testing.T, e *env, p signing.Principal) *order.SignatureOrder {
	t.Helper()
	yes := true
	d := order.Draft{
		EvidenceProviders: []order.EvidenceProvider{{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "test"}}},
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Contract", Reference: ptr("c"),
			StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 2, 0)}},
		Signatories: []order.SignatoryDraft{
			{Documents: []order.SignatoryDocument{{ID: "c", Fields: []order.SignatoryField{
				{Kind: order.FieldSignature, Placement: percent(2, 10, 60)},
				{Kind: order.FieldInitials, Label: "Initials", Placement: order.Placement{Anchor: &order.AnchorPlacement{Text: "Test document", OffsetY: 20}}},
				{Kind: order.FieldText, Label: "City", Required: &yes, Placement: percent(1, 10, 40)},
				{Kind: order.FieldDate, Placement: percent(1, 60, 40)},
				{Kind: order.FieldCheckbox, Label: "I agree", Required: &yes, Placement: percent(1, 10, 50)},
			}}}},
			{Documents: []order.SignatoryDocument{{ID: "c", Fields: []order.SignatoryField{
				{Kind: order.FieldSignature, Placement: percent(2, 50, 60)},
				{Kind: order.FieldText, Label: "Witness", Placement: percent(2, 50, 80)},
			}}}},
		},
	}
	o, err := e.svc.CreateOrder(context.Background(), p, d)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func ptr[T any](v T) *T { return &v }

// TestFieldsAreCreatedAtIntake: the stored document has a read-only form field for every field
// but the signatures, the initials one on each page where the anchor is (the second a copy), and
// each signatory is offered their own fields only, without the date and the copy.
func TestFieldsAreCreatedAtIntake(t *testing.T) {
	ctx := context.Background()
	e := newEnvWith(t, &formSealer{}, nil)
	p := e.principal(t, "app", tenant.KeyReadWrite)
	o := fieldsOrder(t, e, p)
	b, err := e.svc.DocumentBytes(ctx, p, o.ID, o.Documents[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, b.Current)
	listed, err := pdf.FormFields(ctx, b.Current)
	if err != nil {
		t.Fatal(err)
	}
	first, second := o.Signatories[0], o.Signatories[1]
	byName := map[string]pdf.FormField{}
	for _, f := range listed {
		byName[f.Name] = f
	}
	if len(listed) != 6 {
		t.Fatalf("the document has %d form fields, want 6 (5 of the first signatory, 1 of the second): %+v", len(listed), listed)
	}
	names := first.Documents[0].Fields[1].FormNames()
	if len(names) != 2 {
		t.Fatalf("the initials have form fields %v, want one per page", names)
	}
	for page, name := range names {
		if f := byName[name]; !f.Locked || len(f.Pages) != 1 || f.Pages[0] != page+1 {
			t.Errorf("the initials' form field %s: %+v, want read-only on page %d", name, f, page+1)
		}
	}
	if f, ok := byName[first.Documents[0].Fields[4].Name]; !ok || f.Kind != "checkbox" {
		t.Errorf("the checkbox field: %+v", f)
	}
	offered := func(sig order.Signatory) []string {
		fields, err := e.svc.SignatoryFormFields(ctx, signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: sig.ID}, o.Documents[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fields {
			if f.Locked || f.FieldKind == "" {
				t.Errorf("offered %+v, want the signatory's own field, fillable", f)
			}
			out = append(out, f.Label)
		}
		return out
	}
	if got := strings.Join(offered(first), ","); got != "Initials,City,I agree" {
		t.Errorf("the first signatory is offered %s", got)
	}
	if got := strings.Join(offered(second), ","); got != "Witness" {
		t.Errorf("the second signatory is offered %s", got)
	}
}

// TestSignFillsOwnFields: sign's values for the signatory's fields reach the sealer as owned
// values with the date added and empty optional fields cleared; the seal goes where the signature
// field is; another signatory's field, a missing required value or a date given are refused before
// anything is sealed.
func TestSignFillsOwnFields(t *testing.T) {
	ctx := context.Background()
	sealer := &formSealer{}
	e := newEnvWith(t, sealer, nil)
	p := e.principal(t, "app", tenant.KeyReadWrite)
	o := fieldsOrder(t, e, p)
	doc := o.Documents[0].ID
	first, second := o.Signatories[0], o.Signatories[1]
	name := func(s order.Signatory, k int) string { return s.Documents[0].Fields[k].Name }
	sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: first.ID}
	approveAll(t, e, sp, o)
	sign := func(values ...signing.FormValue) error {
		_, _, err := e.svc.Sign(ctx, sp, signing.SignInput{ProviderID: o.EvidenceProviders[0].ID, Noop: true,
			Documents: []signing.DocumentForm{{DocumentID: doc, Fields: values}}})
		return err
	}
	refusals := []struct {
		name        string
		values      []signing.FormValue
		field, rule string
	}{
		{"another signatory's field", []signing.FormValue{{Field: name(second, 1), Value: "x"}},
			"documents[0].form.fields[0]", "is another signatory's field"},
		{"a required text missing", []signing.FormValue{{Field: name(first, 4), Value: "true"}},
			"documents[0].form.fields", `"City"`},
		{"a required checkbox unchecked", []signing.FormValue{{Field: name(first, 2), Value: "Aarhus"}, {Field: name(first, 4), Value: "false"}},
			"documents[0].form.fields[1]", "must be checked"},
		{"the date given", []signing.FormValue{{Field: name(first, 2), Value: "Aarhus"}, {Field: name(first, 4), Value: "true"}, {Field: name(first, 3), Value: "1999-01-01"}},
			"documents[0].form.fields[2]", "signing date"},
		{"a copy of a field", []signing.FormValue{{Field: name(first, 1) + "-2", Value: "AB"}},
			"documents[0].form.fields[0]", "shows the value of"},
		{"a document's own field without the form enabled", []signing.FormValue{{Field: "field1", Value: "x"}},
			"documents[0].form", "form filling enabled"},
	}
	for _, r := range refusals {
		err := sign(r.values...)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != fault.CodeInvalid || fe.Field != r.field || !strings.Contains(fe.Message, r.rule) {
			t.Errorf("%s: %v, want INVALID %s: …%s…", r.name, err, r.field, r.rule)
		}
	}
	if len(sealer.forms) != 0 {
		t.Fatalf("%d seals after refusals, want none", len(sealer.forms))
	}
	if err := sign(signing.FormValue{Field: name(first, 2), Value: "Aarhus"}, signing.FormValue{Field: name(first, 4), Value: "true"}); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation(o.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(loc).Format("2006-01-02")
	want := []pades.FormValue{
		{Field: name(first, 1), Value: "", Owned: true},
		{Field: name(first, 1) + "-2", Value: "", Owned: true},
		{Field: name(first, 2), Value: "Aarhus", Owned: true},
		{Field: name(first, 3), Value: today, Owned: true},
		{Field: name(first, 4), Value: "true", Owned: true},
	}
	got := sealer.forms[0]
	if len(got) != len(want) {
		t.Fatalf("the sealer was given %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if pl := sealer.placements[0]; len(pl) != 1 || pl[0].Page != 2 {
		t.Errorf("the seal is placed at %+v, want the signature field on page 2", pl)
	}
}

// TestFieldsRefusedWhereTheyCannotBeCreated: fields need an incremental update of the stored
// document, so a document stored exactly as given, or one whose earlier signatures are kept, is
// refused with the rule, and nothing is stored.
func TestFieldsRefusedWhereTheyCannotBeCreated(t *testing.T) {
	yes := true
	box := percent(1, 10, 10)
	cases := []struct {
		name        string
		doc         order.DocumentDraft
		placement   order.Placement
		field, rule string
	}{
		{"preserveOriginalStructure", order.DocumentDraft{Data: pdftest.Make(t, 1, 0), PreserveOriginalStructure: &yes}, box,
			"documents[0].preserveOriginalStructure", "cannot be stored exactly as given"},
		{"earlier signatures kept", order.DocumentDraft{Data: pdftest.Build(t, pdftest.Spec{Pages: 1, Signed: true})}, box,
			"documents[0]", "earlier signatures that are kept"},
		{"an anchor that is not there", order.DocumentDraft{Data: pdftest.Make(t, 1, 0)},
			order.Placement{Anchor: &order.AnchorPlacement{Text: "{{nowhere}}"}},
			"signatories[0].documents[0].fields[0].text", `the text "{{nowhere}}" is not in the document`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnvWith(t, &formSealer{}, nil)
			p := e.principal(t, "app", tenant.KeyReadWrite)
			doc := c.doc
			doc.Kind, doc.Title, doc.Reference, doc.StorageMode = order.DocumentPDF, "Contract", ptr("c"), order.StorageModeTemporary
			_, err := e.svc.CreateOrder(context.Background(), p, order.Draft{Documents: []order.DocumentDraft{doc},
				Signatories: []order.SignatoryDraft{{Documents: []order.SignatoryDocument{{ID: "c",
					Fields: []order.SignatoryField{{Kind: order.FieldText, Placement: c.placement}}}}}}})
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.CodeInvalid || fe.Field != c.field || !strings.Contains(fe.Message, c.rule) {
				t.Fatalf("CreateOrder: %v, want INVALID %s: …%s…", err, c.field, c.rule)
			}
			if n := countBlobs(t, e); n != 0 {
				t.Errorf("%d blobs after the refusal", n)
			}
		})
	}
}
