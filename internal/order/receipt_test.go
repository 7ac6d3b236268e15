package order

import (
	"strings"
	"testing"
	"time"
)

// TestDropDocumentsIssuesAReceipt: the change that drops the documents writes the receipt (every
// version by its keyed hash, why, when) once, and announces it only to a webhook that asked.
func TestDropDocumentsIssuesAReceipt(t *testing.T) {
	for _, asked := range []bool{false, true} {
		env := testEnv()
		o, err := Build(draft(func(d *Draft) {
			d.Signatories = []SignatoryDraft{{}}
			d.Webhook = &Webhook{URL: "https://example.com/hook", DeletionReceipts: asked}
		}), "app", env)
		if err != nil {
			t.Fatal(err)
		}
		doc := &o.Documents[0]
		doc.Versions = []DocumentVersion{{Number: 0, BlobKey: "b0", KeyedHash: "aa"}, {Number: 1, BlobKey: "b1", KeyedHash: "bb"}}
		at := env.Now.Add(time.Hour)
		if err := o.Cancel(at); err != nil {
			t.Fatal(err)
		}
		o.DropDocuments(at) // as the service does in the cancel's update
		r := o.DeletionReceipt
		if r == nil || r.Reason != DeletedByCancel || !r.DeletedAt.Equal(at) || r.ID != o.ID+".deletion" {
			t.Fatalf("receipt after cancel: %+v", r)
		}
		if len(r.Documents) != 1 || r.Documents[0].DocumentID != doc.ID || len(r.Documents[0].Versions) != 2 ||
			r.Documents[0].Versions[1] != (ReceiptVersion{Number: 1, KeyedHash: "bb"}) {
			t.Errorf("receipt documents: %+v", r.Documents)
		}
		var announced []string
		for _, e := range o.Events() {
			if e.Name == EventDocumentsDeleted {
				announced = append(announced, string(e.Body))
			}
		}
		if asked != (len(announced) == 1) {
			t.Errorf("webhook asked %v: announced %v", asked, announced)
		}
		if asked && !strings.Contains(announced[0], `"receiptId":"`+r.ID+`","reason":"cancelled"`) {
			t.Errorf("the event's body: %s", announced[0])
		}
		// A later drop (the sweeper finding nothing left) keeps the first receipt.
		o.DropDocuments(at.Add(time.Hour))
		if o.DeletionReceipt != r || !o.DeletionReceipt.DeletedAt.Equal(at) {
			t.Errorf("a second drop changed the receipt: %+v", o.DeletionReceipt)
		}
	}
}
