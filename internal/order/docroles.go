package order

import (
	"fmt"

	"esign/internal/fault"
)

// Per-document roles (SignatoryDocumentInput.signatoryRole): a signatory may be asked to do less
// on some of their documents than their own role says.
//
// Rules:
//   - A document's role is SIGNER, APPROVER or VIEWER, never more than the signatory's own role
//     (SIGNER > APPROVER > VIEWER). A SIGNER signatory's documents may have any of the three roles,
//     at least one of them SIGNER; an APPROVER's are APPROVER or VIEWER, at least one APPROVER; a
//     VIEWER's are only VIEWER. A refusal names the document's signatoryRole with the rule.
//   - Absent, a document's role is the signatory's own. It is stored only where it differs
//     (SignatoryDocument.Role nil otherwise), so that a change of the signatory's role carries the
//     documents that followed it.
//   - Only a SIGNER document has signatory fields; an APPROVER document cannot be preapproved
//     (approving it is what is asked).
//   - Acting: a VIEWER document can only be opened; every APPROVER and SIGNER document must be
//     approved (or preapproved) before the signatory signs; signing seals only the SIGNER documents
//     (SignatoryDocumentsToSeal). A signatory with no SIGNER document does not sign: one with an
//     APPROVER document becomes APPROVED once all its APPROVER documents are approved.
//   - The signatory sees all their documents, each with its role (ViewDocument.Role).

// roleRank orders roles by how much they ask: 0 for an unknown role.
func roleRank(r Role) int {
	switch r {
	case RoleSigner:
		return 3
	case RoleApprover:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// DocumentRole is the signatory's role on the document with this id: the document's own role when
// one is stored, else the signatory's.
func (s *Signatory) DocumentRole(documentID string) Role {
	for _, sd := range s.Documents {
		if sd.ID == documentID && sd.Role != nil {
			return *sd.Role
		}
	}
	return s.SignatoryRole
}

// SignatoryDocumentsToSeal are the ids of the signatory's documents whose role is SIGNER: the ones
// their signature seals.
func (o *SignatureOrder) SignatoryDocumentsToSeal(s *Signatory) []string {
	return o.signatoryDocumentsAtLeast(s, RoleSigner)
}

// SignatoryDocumentsToApprove are the ids of the signatory's documents that must be approved (or
// preapproved) before they sign or become APPROVED: every one but the VIEWER ones.
func (o *SignatureOrder) SignatoryDocumentsToApprove(s *Signatory) []string {
	return o.signatoryDocumentsAtLeast(s, RoleApprover)
}

func (o *SignatureOrder) signatoryDocumentsAtLeast(s *Signatory, least Role) []string {
	var ids []string
	for _, id := range o.SignatoryDocumentIDs(s) {
		if roleRank(s.DocumentRole(id)) >= roleRank(least) {
			ids = append(ids, id)
		}
	}
	return ids
}

// approvesOnly reports whether the signatory is asked to approve and to sign nothing: their
// approval of the APPROVER documents finishes them (status APPROVED).
func (o *SignatureOrder) approvesOnly(s *Signatory) bool {
	return len(o.SignatoryDocumentsToSeal(s)) == 0 && len(o.SignatoryDocumentsToApprove(s)) > 0
}

// checkDocumentRoles applies the rules above to s's documents (field is the signatory's input path)
// and drops stored roles equal to the signatory's own.
func checkDocumentRoles(field string, s *Signatory) error {
	own := roleRank(s.SignatoryRole)
	hasOwn := false
	// A copy: a changed signatory shares its documents with the stored one until the change holds.
	s.Documents = append([]SignatoryDocument(nil), s.Documents...)
	for j := range s.Documents {
		sd := &s.Documents[j]
		f := fmt.Sprintf("%s.documents[%d]", field, j)
		if sd.Role != nil {
			rank := roleRank(*sd.Role)
			switch {
			case rank == 0:
				return fault.Invalid(f+".signatoryRole", "must be SIGNER, APPROVER or VIEWER")
			case rank > own:
				return fault.Invalid(f+".signatoryRole",
					"%s is more than the signatory's own role %s: a document's role is never more than the signatory's (SIGNER > APPROVER > VIEWER)",
					*sd.Role, s.SignatoryRole)
			case rank == own:
				sd.Role = nil
			}
		}
		role := s.DocumentRole(sd.ID)
		hasOwn = hasOwn || role == s.SignatoryRole
		if len(sd.Fields) > 0 && role != RoleSigner {
			return fault.Invalid(f+".fields", "only a SIGNER fills fields, and the signatory's role on this document is %s", role)
		}
		if sd.Preapproved && role == RoleApprover {
			return fault.Invalid(f+".preapproved", "an APPROVER cannot be preapproved: approving this document is what is asked")
		}
	}
	if len(s.Documents) > 0 && !hasOwn {
		return fault.Invalid(field+".documents[0].signatoryRole",
			"the signatory's role is %s, so at least one of their documents must have the signatoryRole %s", s.SignatoryRole, s.SignatoryRole)
	}
	return nil
}
