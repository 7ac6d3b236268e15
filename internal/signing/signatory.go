package signing

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/store"
)

// SignatoryPrincipal is a signatory authenticated by the token of their signing link.
type SignatoryPrincipal struct {
	OrderID     string
	SignatoryID string
	// ViewValidated is set by ValidateViewer: the signatory logged in for the VIEW stage.
	ViewValidated bool
}

// SignatoryLink is the signing link and token of one of p's signatories as p may see them: ok is
// false for a READ_ONLY key. Whoever holds the token can approve and sign as the signatory, so
// showing it to a key that may not change anything would hand that key every change a signatory
// can make.
func (s *Service) SignatoryLink(p Principal, signatoryID string) (href, token string, ok bool) {
	if !p.CanWrite() {
		return "", "", false
	}
	return s.SignatoryHref(signatoryID), s.SignatoryToken(signatoryID), true
}

// AuthenticateSignatory resolves a signing-link token. ok is false for a token that names no current
// signatory (unknown, or the signatory was deleted).
func (s *Service) AuthenticateSignatory(ctx context.Context, token string) (SignatoryPrincipal, bool, error) {
	if token == "" {
		return SignatoryPrincipal{}, false, nil
	}
	hash := TokenHash(token)
	orderID, err := s.store.FindOrderID(ctx, store.IndexSignatoryToken, hash)
	if errors.Is(err, store.ErrNotFound) {
		return SignatoryPrincipal{}, false, nil
	}
	if err != nil {
		return SignatoryPrincipal{}, false, fmt.Errorf("find order of token: %w", err)
	}
	o, err := s.store.GetOrder(ctx, orderID)
	if errors.Is(err, store.ErrNotFound) {
		return SignatoryPrincipal{}, false, nil
	}
	if err != nil {
		return SignatoryPrincipal{}, false, fmt.Errorf("load order %s: %w", orderID, err)
	}
	for _, sig := range o.Signatories {
		// The token must also be the one derived for this signatory now (a changed token key revokes
		// every link).
		if sig.TokenHash == hash && subtle.ConstantTimeCompare([]byte(s.SignatoryToken(sig.ID)), []byte(token)) == 1 {
			return SignatoryPrincipal{OrderID: o.ID, SignatoryID: sig.ID}, true, nil
		}
	}
	return SignatoryPrincipal{}, false, nil
}

// SignatoryView is what the signatory sees and may do now (every signatory query starts here): the
// domain's view at the service's clock, with the VIEW-stage login the principal has made.
func (s *Service) SignatoryView(ctx context.Context, sp SignatoryPrincipal) (order.SignatoryView, error) {
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return order.SignatoryView{}, err
	}
	return o.ViewOf(sig, s.Now(), sp.ViewValidated), nil
}

// ViewOf is SignatoryView of an order the caller already holds (the answer of a signatory's
// change); validated is the principal's ViewValidated.
func (s *Service) ViewOf(o *order.SignatureOrder, sig *order.Signatory, validated bool) order.SignatoryView {
	return o.ViewOf(sig, s.Now(), validated)
}

// signatoryOrder loads the signatory's order; Unauthorized when the signatory is no longer in it.
func (s *Service) signatoryOrder(ctx context.Context, sp SignatoryPrincipal) (*order.SignatureOrder, *order.Signatory, error) {
	o, err := s.store.GetOrder(ctx, sp.OrderID)
	if err != nil {
		return nil, nil, fmt.Errorf("load order %s: %w", sp.OrderID, err)
	}
	sig := o.Signatory(sp.SignatoryID)
	if sig == nil {
		return nil, nil, fault.Unauthorized()
	}
	return o, sig, nil
}

// requireViewAccess refuses signatories who owe a VIEW-stage login (see ValidateViewer).
func requireViewAccess(o *order.SignatureOrder, sp SignatoryPrincipal) error {
	if o.NeedsViewLogin() && !sp.ViewValidated {
		return fault.Forbiddenf("this signature order requires login before viewing: send Signatory-Validation")
	}
	return nil
}

func (s *Service) updateAsSignatory(ctx context.Context, sp SignatoryPrincipal, fn func(o *order.SignatureOrder) error) (*order.SignatureOrder, *order.Signatory, error) {
	o, err := s.store.UpdateOrder(ctx, sp.OrderID, func(o *order.SignatureOrder) error {
		if err := requireViewAccess(o, sp); err != nil {
			return err
		}
		o.ActingAs(actorOf(ctx))
		return fn(o)
	})
	if err != nil {
		if _, ok := fault.As(err); ok {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("update order %s as signatory %s: %w", sp.OrderID, sp.SignatoryID, err)
	}
	return o, o.Signatory(sp.SignatoryID), nil
}

// SetDocumentStatus records that the signatory opened, approved or rejected one of their documents.
func (s *Service) SetDocumentStatus(ctx context.Context, sp SignatoryPrincipal, documentID string, status order.DocumentStatus) (*order.SignatureOrder, *order.Signatory, error) {
	return s.updateAsSignatory(ctx, sp, func(o *order.SignatureOrder) error {
		return o.SetDocumentStatus(sp.SignatoryID, documentID, status, s.Now())
	})
}

// RejectOrder records that the signatory rejects the order.
func (s *Service) RejectOrder(ctx context.Context, sp SignatoryPrincipal, reason *string) (*order.SignatureOrder, *order.Signatory, error) {
	return s.updateAsSignatory(ctx, sp, func(o *order.SignatureOrder) error {
		return o.Reject(sp.SignatoryID, reason, s.Now())
	})
}

// SignatoryDocumentBytes returns one of the signatory's documents; empty for any other document.
func (s *Service) SignatoryDocumentBytes(ctx context.Context, sp SignatoryPrincipal, documentID string) (DocumentBytes, error) {
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return DocumentBytes{}, err
	}
	if err := requireViewAccess(o, sp); err != nil {
		return DocumentBytes{}, err
	}
	for _, id := range o.SignatoryDocumentIDs(sig) {
		if id == documentID {
			return s.readDocument(ctx, o, o.Document(id))
		}
	}
	return DocumentBytes{}, nil
}

// Track records that the signatory opened their signing (or download) link. Tracking is allowed in
// any state: a link opened on a closed order is still a fact worth recording.
func (s *Service) Track(ctx context.Context, sp SignatoryPrincipal, download bool) (*order.SignatureOrder, *order.Signatory, error) {
	o, err := s.store.UpdateOrder(ctx, sp.OrderID, func(o *order.SignatureOrder) error {
		o.ActingAs(actorOf(ctx))
		return o.Track(sp.SignatoryID, download, s.Now())
	})
	if err != nil {
		if _, ok := fault.As(err); ok {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("track signatory %s: %w", sp.SignatoryID, err)
	}
	return o, o.Signatory(sp.SignatoryID), nil
}
