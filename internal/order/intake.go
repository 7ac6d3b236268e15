package order

import (
	"fmt"

	"esign/internal/fault"
)

// The document options of DocumentInput and what each means here (the contract's descriptions in
// the official SDK: keepPreviousSignatures "will allow any existing signatures to remain ... disables
// recreation of the PDF document"; preserveOriginalStructure "automatically enables
// keepPreviousSignatures"; removePreviousSignatures "will remove any existing signatures from the
// document before storing"; fixDocumentFormattingErrors "attempt to automatically fix document
// formatting errors if possible", default true, the document's value overriding the order's):
//
//   - A document is stored as given, except when it must or may be rewritten (a full write through
//     pdfcpu: new cross-reference table, same pages and content). Every later seal is an incremental
//     update of what was stored.
//   - preserveOriginalStructure: stored exactly as given, whatever it holds. Nothing that needs a
//     rewrite can be asked with it.
//   - A document that is signed already keeps its signatures unless removePreviousSignatures asks
//     otherwise (keepPreviousSignatures is the default here: we never recreate a document, so the
//     signatures stay valid, and refusing or silently breaking them would be worse); kept
//     signatures mean it is never rewritten, so nothing that needs a rewrite can be asked either.
//     keepPreviousSignatures false on a signed document, without removePreviousSignatures, is refused:
//     it asks for something that does not exist (signatures that go without being removed).
//   - keepPreviousSignatures on a document that is not signed changes nothing: there is nothing to
//     keep, so a repair may still rewrite it.
//   - removePreviousSignatures on a signed document: a rewrite without its signature fields, the DSS
//     and /Perms; the document is then unsigned (and repaired by the same rewrite).
//   - removeBookmarks on a document with bookmarks: a rewrite without the outline.
//   - A structural defect found by the intake (DocumentFacts.Defect) is repaired by a rewrite
//     unless fixDocumentFormattingErrors is false for the document, which is refused (signing the
//     file as it is gives a document viewers show differently; preserveOriginalStructure is the way
//     to ask for exactly that). The document's fixDocumentFormattingErrors true forces the rewrite
//     even without a defect; the order's true (the contract's default, which the API cannot tell
//     from absent) forces it only where a rewrite is allowed ("if possible").

// DocumentFacts is what the PDF intake found in an uploaded document.
type DocumentFacts struct {
	PreviouslySigned bool
	HasBookmarks     bool
	Defect           string // "" or why its structure is broken, worded to follow "Document <title> "
}

// IntakePlan is what the service does to an uploaded document before storing it.
type IntakePlan struct {
	// Rewrite: a full rewrite instead of the bytes as given (which repairs any defect).
	Rewrite          bool
	RemoveSignatures bool
	RemoveBookmarks  bool
}

// checkDocumentOptions refuses the combinations of options that contradict each other whatever the
// document holds (Build).
func checkDocumentOptions(field string, d DocumentDraft) error {
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	switch {
	case isTrue(d.KeepPreviousSignatures) && isTrue(d.RemovePreviousSignatures):
		return fault.Invalid(field+".removePreviousSignatures", "cannot be true together with keepPreviousSignatures: a document's earlier signatures are either kept or removed")
	case isTrue(d.PreserveOriginalStructure) && isTrue(d.RemovePreviousSignatures):
		return fault.Invalid(field+".removePreviousSignatures", "cannot be true together with preserveOriginalStructure, which stores the document exactly as given")
	case isTrue(d.PreserveOriginalStructure) && isFalse(d.KeepPreviousSignatures):
		return fault.Invalid(field+".keepPreviousSignatures", "cannot be false together with preserveOriginalStructure, which keeps the document, and any signature in it, exactly as given")
	case isTrue(d.PreserveOriginalStructure) && d.RemoveBookmarks:
		return fault.Invalid(field+".pdf.removeBookmarks", "cannot be true together with preserveOriginalStructure: removing bookmarks rewrites the document")
	case isTrue(d.PreserveOriginalStructure) && isTrue(d.FixDocumentFormattingErrors):
		return fault.Invalid(field+".fixDocumentFormattingErrors", "cannot be true together with preserveOriginalStructure: fixing formatting errors rewrites the document")
	}
	return nil
}

// PlanIntake decides what happens to document i of the draft, given what the intake found in it,
// or refuses the document when its options cannot be honoured for what it holds. Errors are
// *fault.Error with fault.CodeInvalid naming the option.
func (d Draft) PlanIntake(i int, f DocumentFacts) (IntakePlan, error) {
	doc := d.Documents[i]
	field := fmt.Sprintf("documents[%d]", i)
	if err := checkDocumentOptions(field, doc); err != nil {
		return IntakePlan{}, err
	}
	if doc.PreserveOriginalStructure != nil && *doc.PreserveOriginalStructure {
		return IntakePlan{}, nil
	}
	remove := doc.RemovePreviousSignatures != nil && *doc.RemovePreviousSignatures
	if f.PreviouslySigned && !remove {
		if doc.KeepPreviousSignatures != nil && !*doc.KeepPreviousSignatures {
			return IntakePlan{}, fault.Invalid(field+".keepPreviousSignatures", "Document %s is signed: its signatures are kept unless removePreviousSignatures is true, so keepPreviousSignatures cannot be false alone", doc.Title)
		}
		// Kept signatures: never rewritten, since a rewrite breaks them.
		if doc.FixDocumentFormattingErrors != nil && *doc.FixDocumentFormattingErrors {
			return IntakePlan{}, fault.Invalid(field+".fixDocumentFormattingErrors", "Document %s is signed: fixing formatting errors rewrites it and breaks its signatures; set removePreviousSignatures to remove them first, or leave fixDocumentFormattingErrors unset", doc.Title)
		}
		if doc.RemoveBookmarks && f.HasBookmarks {
			return IntakePlan{}, fault.Invalid(field+".pdf.removeBookmarks", "Document %s is signed: removing bookmarks rewrites it and breaks its signatures; set removePreviousSignatures to remove them first, or keep the bookmarks", doc.Title)
		}
		return IntakePlan{}, nil
	}
	// The document's option overrides the order's; either may be absent (nil), which is not false:
	// absent lets a defect be repaired, false refuses to.
	fix, fixField := d.FixDocumentFormattingErrors, "fixDocumentFormattingErrors"
	if doc.FixDocumentFormattingErrors != nil {
		fix, fixField = doc.FixDocumentFormattingErrors, field+".fixDocumentFormattingErrors"
	}
	if f.Defect != "" && fix != nil && !*fix {
		return IntakePlan{}, fault.Invalid(fixField, "Document %s %s: signed as it is, viewers would show it differently; let it be repaired (fixDocumentFormattingErrors true or unset), or set preserveOriginalStructure to sign it exactly as given", doc.Title, f.Defect)
	}
	plan := IntakePlan{
		RemoveSignatures: f.PreviouslySigned && remove,
		RemoveBookmarks:  doc.RemoveBookmarks && f.HasBookmarks,
	}
	plan.Rewrite = plan.RemoveSignatures || plan.RemoveBookmarks || f.Defect != "" || (fix != nil && *fix)
	return plan, nil
}

// CheckFieldsIntake refuses signatory fields on document i when what the intake found, or the
// document's options, leave no way to create them: the fields are created by an incremental update
// of the stored document, which preserveOriginalStructure forbids (stored exactly as given), and
// which would be a change after a kept earlier signature that no validator accepts (a new form
// field is not "filling in a form"). withFields says whether any signatory has fields on it.
func (d Draft) CheckFieldsIntake(i int, withFields bool, f DocumentFacts, plan IntakePlan) error {
	if !withFields {
		return nil
	}
	doc := d.Documents[i]
	field := fmt.Sprintf("documents[%d]", i)
	switch {
	case doc.PreserveOriginalStructure != nil && *doc.PreserveOriginalStructure:
		return fault.Invalid(field+".preserveOriginalStructure", "Document %s has signatory fields, which are created in the document: it cannot be stored exactly as given", doc.Title)
	case f.PreviouslySigned && !plan.RemoveSignatures:
		return fault.Invalid(field, "Document %s carries earlier signatures that are kept, and signatory fields cannot be added to it without making them fail validation (removePreviousSignatures removes them)", doc.Title)
	}
	return nil
}
