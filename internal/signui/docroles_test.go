package signui

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"esign/internal/order"
)

// TestPageMarksViewOnlyDocuments: a document the signatory only views carries the "viewOnly"
// label and no approve or reject form; the others keep theirs.
func TestPageMarksViewOnlyDocuments(t *testing.T) {
	h, err := New(nil, "https://sign.example", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ language, label string }{{"EN_US", "For viewing only"}, {"DA_DK", "Kun til gennemsyn"}} {
		ui := order.UI{Language: c.language}
		v := h.baseView(ui)
		v.Approve, v.Reject = true, true
		v.Documents = []document{
			{ID: "terms", Title: "Terms", URL: "https://sign.example/documents/terms", ViewOnly: true},
			{ID: "contract", Title: "Contract", URL: "https://sign.example/documents/contract"},
		}
		rec := httptest.NewRecorder()
		h.write(rec, 200, "page.html", v, ui)
		body := rec.Body.String()
		if !strings.Contains(body, `data-view-only="terms">`+c.label+`</span>`) || strings.Contains(body, `data-view-only="contract"`) {
			t.Errorf("%s: the view-only label is not on the VIEWER document alone:\n%s", c.language, body)
		}
		if strings.Contains(body, `data-approve="terms"`) || strings.Contains(body, `data-reject="terms"`) {
			t.Errorf("%s: the VIEWER document can be approved or rejected", c.language)
		}
		if !strings.Contains(body, `data-approve="contract"`) || !strings.Contains(body, `data-reject="contract"`) {
			t.Errorf("%s: the SIGNER document lost its approve or reject form", c.language)
		}
	}
}
