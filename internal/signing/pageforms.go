package signing

import (
	"context"

	"esign/internal/fault"
	"esign/internal/order"
)

// SignatoryFormFields lists what the signatory fills in one of their documents, with the values
// in its current bytes, for the hosted signing page to offer: their own fields (SignatoryFields,
// with their labels and rules; not the date, which the service writes) and, when the document's own
// form was enabled at creation, its fields. Other signatories' fields are never listed. Like
// SignatoryDocumentBytes it refuses a signatory who owes a VIEW-stage login.
func (s *Service) SignatoryFormFields(ctx context.Context, sp SignatoryPrincipal, documentID string) ([]order.FormField, error) {
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return nil, err
	}
	if err := requireViewAccess(o, sp); err != nil {
		return nil, err
	}
	var d *order.Document
	for _, id := range o.SignatoryDocumentIDs(sig) {
		if id == documentID {
			d = o.Document(id)
		}
	}
	if d == nil {
		return nil, fault.Invalid("id", "is not one of this signatory's documents")
	}
	if sig.DocumentRole(d.ID) != order.RoleSigner {
		return nil, nil // nothing is written in a document the signatory does not sign
	}
	formEnabled := d.FormEnabled != nil && *d.FormEnabled
	own := order.FieldsOf(sig, d.ID)
	if !formEnabled && len(own) == 0 {
		return nil, nil
	}
	all, err := s.versionListing(ctx, o, d)
	if err != nil || all == nil {
		return nil, err
	}
	return order.SignatoryForm(o, sig, d, all), nil
}

// versionListing is the form listing of d's current version. The signing page shows it on every
// render; a version's bytes never change (a signature makes a new version, under a new blob key),
// so it is read, decrypted and parsed once per version and then kept in memory (listingsCached
// versions, least recently used first out). Nil when no version is stored.
func (s *Service) versionListing(ctx context.Context, o *order.SignatureOrder, d *order.Document) ([]order.FormField, error) {
	cur := d.Current()
	if cur == nil {
		return nil, nil
	}
	if all, ok := s.listings.Get(cur.BlobKey); ok {
		return all, nil
	}
	b, err := s.readDocument(ctx, o, d)
	if err != nil || b.Current == nil {
		return nil, err
	}
	all, err := s.FormFields(ctx, b)
	if err != nil {
		return nil, err
	}
	if all == nil {
		all = []order.FormField{}
	}
	s.listings.Add(cur.BlobKey, all)
	return all, nil
}
