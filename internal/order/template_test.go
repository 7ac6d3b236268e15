package order

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"esign/internal/fault"
)

// A seals page template's blob is stored like a version: the order holds documents while it is
// there, DropDocuments returns and forgets it (its layout may stay as metadata), and the size
// budget counts its layout but not its key material.
func TestSealsPageTemplateLifecycle(t *testing.T) {
	blob := DocumentVersion{Number: TemplateVersion, BlobKey: "orders/o/d/template-x", Keys: Keys{Inner: bytes.Repeat([]byte{1}, 900_000)}}
	for _, c := range []struct {
		name       string
		versions   []DocumentVersion
		template   *SealsPageTemplate
		stored     bool
		dropped    int
		sizeErrors bool
	}{
		{"no template", []DocumentVersion{{BlobKey: "v0"}}, nil, true, 1, false},
		{"template with its version", []DocumentVersion{{BlobKey: "v0"}}, &SealsPageTemplate{Columns: 2, Rows: 1, Blob: &blob}, true, 2, false},
		{"template left alone", nil, &SealsPageTemplate{Columns: 2, Rows: 1, Blob: &blob}, true, 1, false},
		{"template already dropped", nil, &SealsPageTemplate{Columns: 2, Rows: 1}, false, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := Build(draft(func(d *Draft) { d.Signatories = []SignatoryDraft{{}} }), "app", testEnv())
			if err != nil {
				t.Fatal(err)
			}
			o.Documents[0].Versions = c.versions
			o.Documents[0].SealsPageTemplate = c.template
			// 900 kB of wrapped keys (1.2 MB in JSON): more than MaxOrderBytes, and still not counted.
			if err := o.checkSize(); (err != nil) != c.sizeErrors {
				t.Errorf("checkSize: %v", err)
			}
			if got := o.HasStoredDocuments(); got != c.stored {
				t.Errorf("HasStoredDocuments = %v, want %v", got, c.stored)
			}
			before := o.Documents[0].SealsPageTemplate
			dropped := o.DropDocuments(time.Now())
			if len(dropped) != c.dropped {
				t.Errorf("DropDocuments dropped %d blobs, want %d: %+v", len(dropped), c.dropped, dropped)
			}
			if o.HasStoredDocuments() {
				t.Error("the order holds documents after DropDocuments")
			}
			if tp := o.Documents[0].SealsPageTemplate; tp != nil && tp.Blob != nil {
				t.Errorf("the template keeps its keys: %+v", tp.Blob)
			}
			// The store's Apply keeps the loaded order beside the changed one, sharing its documents.
			if c.template != nil && c.template.Blob != nil && before.Blob == nil {
				t.Error("DropDocuments changed the template the order was loaded with")
			}
		})
	}
}

// The template's layout is input: SetSealsPageTemplate records it and the size budget counts it,
// and it is persisted with the document (the store keeps the order as JSON).
func TestSetSealsPageTemplate(t *testing.T) {
	o, err := Build(draft(func(d *Draft) { d.Signatories = []SignatoryDraft{{}} }), "app", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if err := o.SetSealsPageTemplate("nope", [4]float64{0, 0, 1, 1}, 1, 1); err == nil {
		t.Error("a template for an unknown document was recorded")
	}
	if err := o.SetSealsPageTemplate(o.Documents[0].ID, [4]float64{40, 40, 555, 700}, 2, 7); err != nil {
		t.Fatal(err)
	}
	o.Documents[0].SealsPageTemplate.Blob = &DocumentVersion{Number: TemplateVersion, BlobKey: "orders/o/d/template-x"}
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var back SignatureOrder
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	tp := back.Documents[0].SealsPageTemplate
	if tp == nil || tp.Area != [4]float64{40, 40, 555, 700} || tp.Columns != 2 || tp.Rows != 7 || tp.Blob == nil || tp.Blob.BlobKey != "orders/o/d/template-x" {
		t.Errorf("the template after a JSON round trip: %+v", tp)
	}
}

// maxSignatories cannot grow past a template's slots: the signatory beyond them could not be sealed.
func TestChangeMaxSignatoriesWithinTemplateSlots(t *testing.T) {
	for _, c := range []struct {
		max   int
		valid bool
	}{{4, true}, {6, true}, {7, false}} {
		o, err := Build(draft(func(d *Draft) { d.Signatories = []SignatoryDraft{{}}; d.MaxSignatories = ptr(2) }), "app", testEnv())
		if err != nil {
			t.Fatal(err)
		}
		if err := o.SetSealsPageTemplate(o.Documents[0].ID, [4]float64{40, 40, 555, 700}, 2, 3); err != nil {
			t.Fatal(err)
		}
		err = o.Change(ptr(c.max), nil)
		if fe, ok := err.(*fault.Error); c.valid != (err == nil) || !c.valid && (!ok || fe.Field != "maxSignatories") {
			t.Errorf("Change(maxSignatories %d) on a 2 × 3 template: %v", c.max, err)
		}
	}
}
