package order

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"esign/internal/fault"
)

// twoDocuments is a draft with documents a and b and the given signatories.
func twoDocuments(signatories ...SignatoryDraft) Draft {
	return Draft{
		Documents: []DocumentDraft{
			{Kind: DocumentPDF, Title: "A", Reference: ptr("a"), StorageMode: StorageModeTemporary, Data: []byte("%PDF-")},
			{Kind: DocumentPDF, Title: "B", Reference: ptr("b"), StorageMode: StorageModeTemporary, Data: []byte("%PDF-")},
		},
		Signatories: signatories,
	}
}

// onDocuments gives a signatory of role documents a and b with the roles ra and rb (nil: none given).
func onDocuments(role Role, ra, rb *Role) SignatoryDraft {
	return SignatoryDraft{SignatoryRole: ptr(role), Documents: []SignatoryDocument{{ID: "a", Role: ra}, {ID: "b", Role: rb}}}
}

func TestDocumentRoleRules(t *testing.T) {
	signer, approver, viewer := ptr(RoleSigner), ptr(RoleApprover), ptr(RoleViewer)
	cases := []struct {
		name      string
		signatory SignatoryDraft
		field     string // "" when the draft is accepted
		want      string // part of the refusal; when accepted, the roles of a and b joined by ","
	}{
		{"default is the signatory's role", onDocuments(RoleApprover, nil, nil), "", "APPROVER,APPROVER"},
		{"signer with all three below", onDocuments(RoleSigner, viewer, signer), "", "VIEWER,SIGNER"},
		{"signer with an approver document", onDocuments(RoleSigner, approver, nil), "", "APPROVER,SIGNER"},
		{"approver with a viewer document", onDocuments(RoleApprover, viewer, approver), "", "VIEWER,APPROVER"},
		{"viewer with viewer documents", onDocuments(RoleViewer, viewer, nil), "", "VIEWER,VIEWER"},
		{"signer with no signer document", onDocuments(RoleSigner, viewer, approver),
			"signatories[0].documents[0].signatoryRole", "the signatory's role is SIGNER, so at least one of their documents must have the signatoryRole SIGNER"},
		{"approver with only viewer documents", onDocuments(RoleApprover, viewer, viewer),
			"signatories[0].documents[0].signatoryRole", "at least one of their documents must have the signatoryRole APPROVER"},
		{"approver asked to sign", onDocuments(RoleApprover, nil, signer),
			"signatories[0].documents[1].signatoryRole", "SIGNER is more than the signatory's own role APPROVER"},
		{"viewer asked to approve", onDocuments(RoleViewer, approver, nil),
			"signatories[0].documents[0].signatoryRole", "never more than the signatory's (SIGNER > APPROVER > VIEWER)"},
		{"unknown role", onDocuments(RoleSigner, ptr(Role("OWNER")), nil),
			"signatories[0].documents[0].signatoryRole", "must be SIGNER, APPROVER or VIEWER"},
		{"fields on a viewer document", SignatoryDraft{Documents: []SignatoryDocument{
			{ID: "a", Role: viewer, Fields: []SignatoryField{{Kind: FieldText, Placement: at(1, 1, 1)}}}, {ID: "b"}}},
			"signatories[0].documents[0].fields", "the signatory's role on this document is VIEWER"},
		{"preapproved approver document", SignatoryDraft{Documents: []SignatoryDocument{
			{ID: "a", Role: approver, Preapproved: true}, {ID: "b"}}},
			"signatories[0].documents[0].preapproved", "an APPROVER cannot be preapproved"},
		{"preapproved viewer document", SignatoryDraft{Documents: []SignatoryDocument{
			{ID: "a", Role: viewer, Preapproved: true}, {ID: "b"}}}, "", "VIEWER,SIGNER"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := Build(twoDocuments(c.signatory), "app", testEnv())
			if c.field != "" {
				de, ok := fault.As(err)
				if !ok || de.Code != fault.CodeInvalid || de.Field != c.field || !strings.Contains(de.Message, c.want) {
					t.Fatalf("error = %v, want INVALID %s: …%s…", err, c.field, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := &o.Signatories[0]
			got := string(s.DocumentRole(o.Documents[0].ID)) + "," + string(s.DocumentRole(o.Documents[1].ID))
			if got != c.want {
				t.Fatalf("document roles %s, want %s", got, c.want)
			}
			for j, sd := range s.Documents {
				if sd.Role != nil && *sd.Role == s.SignatoryRole {
					t.Errorf("documents[%d] stores the signatory's own role %s", j, *sd.Role)
				}
			}
		})
	}
}

func TestDocumentRoleStored(t *testing.T) {
	o, err := Build(twoDocuments(onDocuments(RoleSigner, ptr(RoleViewer), ptr(RoleSigner))), "app", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(o.Signatories[0].Documents)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), `"role":`); n != 1 || !strings.Contains(string(raw), `"role":"VIEWER"`) {
		t.Fatalf("stored documents %s: want only the VIEWER role stored", raw)
	}
	var back []SignatoryDocument
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	s := Signatory{SignatoryRole: RoleSigner, Documents: back}
	if got := []Role{s.DocumentRole(o.Documents[0].ID), s.DocumentRole(o.Documents[1].ID)}; !reflect.DeepEqual(got, []Role{RoleViewer, RoleSigner}) {
		t.Fatalf("roles after a round trip %v", got)
	}

	// A change of the signatory's role carries the documents that had no role of their own; a
	// refused change leaves the stored roles as they were.
	id := o.Signatories[0].ID
	if err := o.ChangeSignatory(id, SignatoryDraft{SignatoryRole: ptr(RoleApprover), Reference: ptr(strings.Repeat("x", MaxReferenceLen+1))}); err == nil {
		t.Fatal("a reference too long was accepted")
	}
	if err := o.ChangeSignatory(id, SignatoryDraft{SignatoryRole: ptr(RoleViewer), EvidenceProviders: []string{"nope"}}); err == nil {
		t.Fatal("an unknown evidence provider was accepted")
	}
	if r := o.Signatories[0].DocumentRole(o.Documents[0].ID); r != RoleViewer || o.Signatories[0].Documents[0].Role == nil {
		t.Fatalf("a refused change altered the stored role: %s", r)
	}
	if err := o.ChangeSignatory(id, SignatoryDraft{SignatoryRole: ptr(RoleApprover)}); err != nil {
		t.Fatal(err)
	}
	s = o.Signatories[0]
	if got := []Role{s.DocumentRole(o.Documents[0].ID), s.DocumentRole(o.Documents[1].ID)}; !reflect.DeepEqual(got, []Role{RoleViewer, RoleApprover}) {
		t.Fatalf("roles after the signatory became an APPROVER %v", got)
	}
}

func TestDocumentRoleActing(t *testing.T) {
	now := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	o, err := Build(twoDocuments(
		onDocuments(RoleSigner, ptr(RoleViewer), nil),
		onDocuments(RoleApprover, ptr(RoleViewer), nil),
	), "app", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	signer, approver := o.Signatories[0].ID, o.Signatories[1].ID
	docA, docB := o.Documents[0].ID, o.Documents[1].ID

	for _, sig := range []string{signer, approver} {
		for _, st := range []DocumentStatus{DocumentApproved, DocumentRejected} {
			if err := o.SetDocumentStatus(sig, docA, st, now); err == nil || !strings.Contains(err.Error(), "only to be viewed") {
				t.Fatalf("%s %s a VIEWER document: %v", sig, st, err)
			}
		}
		if err := o.SetDocumentStatus(sig, docA, DocumentOpened, now); err != nil {
			t.Fatal(err)
		}
	}

	// The approver is done once its one APPROVER document is approved.
	if err := o.SetDocumentStatus(approver, docB, DocumentApproved, now); err != nil {
		t.Fatal(err)
	}
	if st := o.Signatory(approver).Status; st != SignatoryApproved {
		t.Fatalf("approver status %s after approving its APPROVER document", st)
	}

	// The signer signs once b is approved; a needs no approval and is not sealed.
	v := o.ViewOf(o.Signatory(signer), now, false)
	if len(v.Documents) != 2 || v.Documents[0].Role != RoleViewer || v.Documents[1].Role != RoleSigner || v.AllApproved {
		t.Fatalf("view before approving b: %+v", v.Documents)
	}
	if _, err := o.CheckCanSign(signer, now); err == nil {
		t.Fatal("signed before approving the SIGNER document")
	}
	if err := o.SetDocumentStatus(signer, docB, DocumentApproved, now); err != nil {
		t.Fatal(err)
	}
	if !o.ViewOf(o.Signatory(signer), now, false).AllApproved {
		t.Fatal("view: not all approved though only the VIEWER document is left")
	}
	if got := o.SignatoryDocumentsToSeal(o.Signatory(signer)); !reflect.DeepEqual(got, []string{docB}) {
		t.Fatalf("documents to seal %v, want only b", got)
	}
	if _, err := o.CheckCanSign(signer, now); err != nil {
		t.Fatal(err)
	}
	o.MarkSigned(signer, now)
	s := o.Signatory(signer)
	if s.Status != SignatorySigned || *s.SignatoryDocumentStatus(docB) != DocumentSigned || *s.SignatoryDocumentStatus(docA) != DocumentOpened {
		t.Fatalf("after signing: status %s, a %s, b %s", s.Status, *s.SignatoryDocumentStatus(docA), *s.SignatoryDocumentStatus(docB))
	}
	if !o.AllCurrentSignatoriesSigned() {
		t.Fatal("not everyone finished")
	}
}

func TestDocumentRoleSignsNothing(t *testing.T) {
	// A SIGNER left with no SIGNER document (its documents changed under it) does not sign.
	now := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	o, err := Build(twoDocuments(onDocuments(RoleSigner, ptr(RoleViewer), nil)), "app", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	s := &o.Signatories[0]
	s.Documents = s.Documents[:1]
	if _, err := o.CheckCanSign(s.ID, now); err == nil || !strings.Contains(err.Error(), "none of this signatory's documents") {
		t.Fatalf("a signatory with only a VIEWER document may sign: %v", err)
	}
}
