package order

import (
	"strings"
	"testing"
	"time"
)

func TestEventsRaised(t *testing.T) {
	now := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	o := signingOrder(t)
	o.ID = "ord"
	o.Webhook = &Webhook{URL: "https://example.com/hook", Secret: []byte{1, 2}}
	approver, signer, viewer := o.Signatories[0].ID, o.Signatories[1].ID, o.Signatories[2].ID
	docA, docB := o.Documents[0].ID, o.Documents[1].ID
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(o.Track(approver, false, now))
	must(o.Track(approver, false, now)) // the first opening only
	must(o.SetDocumentStatus(approver, docA, DocumentOpened, now))
	must(o.SetDocumentStatus(approver, docA, DocumentOpened, now)) // no change, no event
	must(o.SetDocumentStatus(approver, docA, DocumentApproved, now))
	must(o.SetDocumentStatus(approver, docB, DocumentApproved, now))
	must(o.SetDocumentStatus(signer, docA, DocumentApproved, now))
	o.SignError(signer, "the TSA did not answer", now)
	o.MarkSigned(signer, now)
	must(o.Track(viewer, true, now))
	o.Sweep(now) // not expired yet: nothing

	want := []string{
		`{"event":"SIGNATORY_SIGN_LINK_OPENED","signatureOrderId":"ord","signatoryId":"A"}`,
		`{"event":"SIGNATORY_DOCUMENT_STATUS_CHANGED","signatureOrderId":"ord","signatoryId":"A","documentId":"a","status":"OPENED"}`,
		`{"event":"SIGNATORY_DOCUMENT_STATUS_CHANGED","signatureOrderId":"ord","signatoryId":"A","documentId":"a","status":"APPROVED"}`,
		`{"event":"SIGNATORY_DOCUMENT_STATUS_CHANGED","signatureOrderId":"ord","signatoryId":"A","documentId":"b","status":"APPROVED"}`,
		`{"event":"SIGNATORY_APPROVED","signatureOrderId":"ord","signatoryId":"A"}`,
		`{"event":"SIGNATORY_DOCUMENT_STATUS_CHANGED","signatureOrderId":"ord","signatoryId":"S","documentId":"a","status":"APPROVED"}`,
		`{"event":"SIGNATORY_SIGN_ERROR","signatureOrderId":"ord","error":"the TSA did not answer","signatoryId":"S"}`,
		`{"event":"SIGNATORY_SIGNED","signatureOrderId":"ord","signatoryId":"S"}`,
		`{"event":"ALL_CURRENT_SIGNATORIES_SIGNED","signatureOrderId":"ord"}`,
		`{"event":"SIGNATORY_DOWNLOAD_LINK_OPENED","signatureOrderId":"ord","signatoryId":"V"}`,
	}
	ids := strings.NewReplacer(approver, "A", signer, "S", viewer, "V", docA, "a", docB, "b")
	var got []string
	for _, e := range o.Events() {
		got = append(got, ids.Replace(string(e.Body)))
		if e.URL != o.Webhook.URL || string(e.Secret) != "\x01\x02" || !e.At.Equal(now) || !strings.Contains(string(e.Body), `"`+e.Name+`"`) {
			t.Errorf("event %s: url %q, secret %v, at %v", e.Name, e.URL, e.Secret, e.At)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	expired := signingOrder(t)
	expired.ID = "exp"
	expired.Webhook = &Webhook{URL: "https://example.com/hook"}
	expired.Sweep(expired.ExpiresAt)
	if len(expired.Events()) != 1 || string(expired.Events()[0].Body) != `{"event":"SIGNATURE_ORDER_EXPIRED","signatureOrderId":"exp"}` {
		t.Errorf("expiry events: %+v", expired.Events())
	}
	rejecting := signingOrder(t)
	rejecting.ID = "rej"
	rejecting.Webhook = &Webhook{URL: "https://example.com/hook"}
	must(rejecting.Reject(rejecting.Signatories[0].ID, nil, now))
	if len(rejecting.Events()) != 1 || string(rejecting.Events()[0].Body) != `{"event":"SIGNATORY_REJECTED","signatureOrderId":"rej","signatoryId":"`+rejecting.Signatories[0].ID+`","reason":null}` {
		t.Errorf("rejection events: %s", rejecting.Events()[0].Body)
	}
	quiet := signingOrder(t) // no webhook: nothing to raise
	must(quiet.Track(quiet.Signatories[0].ID, false, now))
	if len(quiet.Events()) != 0 {
		t.Errorf("an order without a webhook raised %d events", len(quiet.Events()))
	}
}
