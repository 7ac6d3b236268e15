package signing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
)

// TestSignaturesWaitForThePDFBudget: reading signatures back parses the PDF, so it is admitted
// against the process's PDF memory budget like intake and sealing: with the budget held elsewhere it
// answers busy instead of adding its memory on top.
func TestSignaturesWaitForThePDFBudget(t *testing.T) {
	admission := pdf.NewAdmission(pdf.AdmissionConfig{Budget: 1 << 20, Wait: 20 * time.Millisecond})
	svc := signing.New(nil, nil, nil, nil, signing.Config{PDFAdmission: admission}, nil)
	doc := signing.DocumentBytes{Current: pdftest.Make(t, 1, 0), SignedBy: []string{"signatory"}}
	release, err := admission.Reserve(context.Background(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Signatures(context.Background(), doc); !errors.Is(err, pdf.ErrBusy) {
		t.Fatalf("Signatures with the budget in use = %v, want the busy answer", err)
	}
	release()
	// With room it reads: this unsigned test file carries none of the one signature claimed.
	if _, err := svc.Signatures(context.Background(), doc); err == nil || errors.Is(err, pdf.ErrBusy) {
		t.Fatalf("Signatures with room = %v, want the mismatch error of a file without signatures", err)
	}
}
