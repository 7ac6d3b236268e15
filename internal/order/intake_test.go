package order

import (
	"testing"

	"esign/internal/fault"
)

func TestPlanIntake(t *testing.T) {
	const defect = "has a cross-reference table that does not match where its objects are"
	signed := DocumentFacts{PreviouslySigned: true}
	broken := DocumentFacts{Defect: defect}
	for _, tc := range []struct {
		name      string
		doc       func(*DocumentDraft)
		orderFix  *bool
		facts     DocumentFacts
		want      IntakePlan
		wantField string // "" accepted; else refused naming this field (by Build when static)
		static    bool   // refused by Build already, whatever the document holds
	}{
		{name: "sound, defaults: stored as given", facts: DocumentFacts{}},
		{name: "broken, defaults: repaired", facts: broken, want: IntakePlan{Rewrite: true}},
		{name: "broken, fix true: repaired", doc: func(d *DocumentDraft) { d.FixDocumentFormattingErrors = ptr(true) }, facts: broken, want: IntakePlan{Rewrite: true}},
		{name: "sound, fix true: rewritten anyway", doc: func(d *DocumentDraft) { d.FixDocumentFormattingErrors = ptr(true) }, want: IntakePlan{Rewrite: true}},
		{name: "sound, order's fix true: rewritten", orderFix: ptr(true), want: IntakePlan{Rewrite: true}},
		{name: "sound, order's fix true, document's false: as given", orderFix: ptr(true),
			doc: func(d *DocumentDraft) { d.FixDocumentFormattingErrors = ptr(false) }},
		{name: "broken, order's fix false: refused", orderFix: ptr(false), facts: broken, wantField: "fixDocumentFormattingErrors"},
		{name: "broken, order's fix false, document's true: repaired", orderFix: ptr(false),
			doc: func(d *DocumentDraft) { d.FixDocumentFormattingErrors = ptr(true) }, facts: broken, want: IntakePlan{Rewrite: true}},
		{name: "sound, order's fix false: as given", orderFix: ptr(false)},
		{name: "broken, fix false: refused", doc: func(d *DocumentDraft) { d.FixDocumentFormattingErrors = ptr(false) }, facts: broken,
			wantField: "documents[0].fixDocumentFormattingErrors"},
		{name: "broken, preserve: as given", doc: func(d *DocumentDraft) { d.PreserveOriginalStructure = ptr(true) }, facts: broken},
		{name: "broken, preserve and fix false: as given", doc: func(d *DocumentDraft) {
			d.PreserveOriginalStructure, d.FixDocumentFormattingErrors = ptr(true), ptr(false)
		}, facts: broken},
		{name: "signed and broken, defaults: kept as given", facts: DocumentFacts{PreviouslySigned: true, Defect: defect}},
		{name: "signed, order's fix true: kept as given", orderFix: ptr(true), facts: signed},
		{name: "signed, keep: as given", doc: func(d *DocumentDraft) { d.KeepPreviousSignatures = ptr(true) }, facts: signed},
		{name: "signed, keep false alone: refused", doc: func(d *DocumentDraft) { d.KeepPreviousSignatures = ptr(false) }, facts: signed,
			wantField: "documents[0].keepPreviousSignatures"},
		{name: "signed, remove: rewritten unsigned", doc: func(d *DocumentDraft) { d.RemovePreviousSignatures = ptr(true) }, facts: signed,
			want: IntakePlan{Rewrite: true, RemoveSignatures: true}},
		{name: "signed, keep false and remove: rewritten unsigned", doc: func(d *DocumentDraft) {
			d.KeepPreviousSignatures, d.RemovePreviousSignatures = ptr(false), ptr(true)
		}, facts: signed, want: IntakePlan{Rewrite: true, RemoveSignatures: true}},
		{name: "unsigned, remove: nothing to remove", doc: func(d *DocumentDraft) { d.RemovePreviousSignatures = ptr(true) }},
		{name: "unsigned and broken, keep: repaired (nothing to keep)", doc: func(d *DocumentDraft) { d.KeepPreviousSignatures = ptr(true) }, facts: broken,
			want: IntakePlan{Rewrite: true}},
		{name: "signed, fix true: refused", doc: func(d *DocumentDraft) { d.FixDocumentFormattingErrors = ptr(true) }, facts: signed,
			wantField: "documents[0].fixDocumentFormattingErrors"},
		{name: "signed with bookmarks, remove bookmarks: refused", doc: func(d *DocumentDraft) { d.RemoveBookmarks = true },
			facts: DocumentFacts{PreviouslySigned: true, HasBookmarks: true}, wantField: "documents[0].pdf.removeBookmarks"},
		{name: "signed without bookmarks, remove bookmarks: nothing to remove", doc: func(d *DocumentDraft) { d.RemoveBookmarks = true }, facts: signed},
		{name: "signed with bookmarks, remove both", doc: func(d *DocumentDraft) { d.RemoveBookmarks, d.RemovePreviousSignatures = true, ptr(true) },
			facts: DocumentFacts{PreviouslySigned: true, HasBookmarks: true}, want: IntakePlan{Rewrite: true, RemoveSignatures: true, RemoveBookmarks: true}},
		{name: "bookmarks, remove bookmarks: rewritten", doc: func(d *DocumentDraft) { d.RemoveBookmarks = true },
			facts: DocumentFacts{HasBookmarks: true}, want: IntakePlan{Rewrite: true, RemoveBookmarks: true}},
		{name: "no bookmarks, remove bookmarks: as given", doc: func(d *DocumentDraft) { d.RemoveBookmarks = true }},

		{name: "keep and remove", doc: func(d *DocumentDraft) { d.KeepPreviousSignatures, d.RemovePreviousSignatures = ptr(true), ptr(true) },
			wantField: "documents[0].removePreviousSignatures", static: true},
		{name: "preserve and remove", doc: func(d *DocumentDraft) { d.PreserveOriginalStructure, d.RemovePreviousSignatures = ptr(true), ptr(true) },
			wantField: "documents[0].removePreviousSignatures", static: true},
		{name: "preserve and keep false", doc: func(d *DocumentDraft) { d.PreserveOriginalStructure, d.KeepPreviousSignatures = ptr(true), ptr(false) },
			wantField: "documents[0].keepPreviousSignatures", static: true},
		{name: "preserve and remove bookmarks", doc: func(d *DocumentDraft) { d.PreserveOriginalStructure, d.RemoveBookmarks = ptr(true), true },
			wantField: "documents[0].pdf.removeBookmarks", static: true},
		{name: "preserve and fix true", doc: func(d *DocumentDraft) {
			d.PreserveOriginalStructure, d.FixDocumentFormattingErrors = ptr(true), ptr(true)
		},
			wantField: "documents[0].fixDocumentFormattingErrors", static: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := draft(func(d *Draft) {
				d.FixDocumentFormattingErrors = tc.orderFix
				if tc.doc != nil {
					tc.doc(&d.Documents[0])
				}
			})
			_, buildErr := Build(d, "app", testEnv())
			plan, err := d.PlanIntake(0, tc.facts)
			if tc.static {
				if e, ok := fault.As(buildErr); !ok || e.Field != tc.wantField {
					t.Fatalf("Build: %v, want refused naming %s", buildErr, tc.wantField)
				}
			} else if buildErr != nil {
				t.Fatalf("Build: %v", buildErr)
			}
			if tc.wantField != "" {
				if e, ok := fault.As(err); !ok || e.Field != tc.wantField || e.Code != fault.CodeInvalid {
					t.Fatalf("PlanIntake: %v, want refused naming %s", err, tc.wantField)
				}
				return
			}
			if err != nil || plan != tc.want {
				t.Fatalf("PlanIntake = %+v, %v; want %+v", plan, err, tc.want)
			}
		})
	}
}
