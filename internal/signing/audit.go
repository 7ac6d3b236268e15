package signing

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strings"

	"esign/internal/auditlog"
	"esign/internal/envelope"
	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/order"
)

// The audit trail: the domain records an entry in every change (order.AuditEntry), the store seals
// it to the order's public key in the change's transaction, and this file creates the key pair,
// names the person acting, and opens the trail for the application.

// maxUserAgent bounds the user agent kept in an entry (bytes).
const maxUserAgent = 512

type actorKey struct{}

// WithActor says that the request ctx carries is a person's (a signatory's browser or client): the
// signatory's acts in it are recorded with a's IP address and user agent. The edges set it from the
// connection; the user agent is cut to 512 bytes and stripped of control characters here, so every
// edge keeps the same.
func WithActor(ctx context.Context, a order.Actor) context.Context {
	a.IP = cleanHeader(a.IP, 64)
	a.UserAgent = cleanHeader(a.UserAgent, maxUserAgent)
	return context.WithValue(ctx, actorKey{}, &a)
}

// withoutActor drops the person: what follows is the application's act (signActingAs).
func withoutActor(ctx context.Context) context.Context {
	return context.WithValue(ctx, actorKey{}, (*order.Actor)(nil))
}

// actorOf is the person of the request, nil for the service and the API.
func actorOf(ctx context.Context) *order.Actor {
	a, _ := ctx.Value(actorKey{}).(*order.Actor)
	return a
}

// cleanHeader drops control characters and invalid UTF-8 from s and cuts it to at most n bytes on
// a rune boundary.
func cleanHeader(s string, n int) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "") {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			continue
		}
		if b.Len()+len(string(r)) > n {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// auditKeyBinding binds the encrypted private audit key to its order: copied to another order's
// row it does not open; no document id is "audit-key", so it opens as no document either.
func auditKeyBinding(applicationID, orderID string) envelope.Binding {
	return envelope.Binding{ApplicationID: applicationID, OrderID: orderID, DocumentID: "audit-key"}
}

// newAuditKey gives a new order its audit key pair: the public key in clear for the store, the
// private key encrypted with the envelope (both layers) for AuditTrail.
func (s *Service) newAuditKey(ctx context.Context, o *order.SignatureOrder) error {
	public, private, err := auditlog.NewKey()
	if err != nil {
		return err
	}
	ciphertext, keys, err := s.crypt.Encrypt(ctx, private, auditKeyBinding(o.ApplicationID, o.ID))
	clear(private)
	if err != nil {
		return fmt.Errorf("encrypt audit key of order %s: %w", o.ID, err)
	}
	o.AuditKey = &order.AuditKey{Public: public, Private: ciphertext, Keys: keys}
	return nil
}

// recordStored adds a stored version's SHA-256 to the trail (the completion certificate's "before").
func recordStored(o *order.SignatureOrder, documentID string, v order.DocumentVersion, data []byte) {
	o.RecordStored(documentID, v, fmt.Sprintf("%x", sha256.Sum256(data)))
}

// MaxAuditPage is the most entries AuditTrailPage answers at a time.
const MaxAuditPage = 500

// AuditRecord is one entry of the trail with its place in it (1, 2, …).
type AuditRecord struct {
	Seq   int64
	Entry order.AuditEntry
}

// AuditTrail is the whole audit trail of one of the caller's orders, oldest first (AuditTrailPage
// page by page).
func (s *Service) AuditTrail(ctx context.Context, p Principal, orderID string) ([]order.AuditEntry, error) {
	var out []order.AuditEntry
	for after := int64(0); ; {
		page, err := s.AuditTrailPage(ctx, p, orderID, after, MaxAuditPage)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			out = append(out, r.Entry)
			after = r.Seq
		}
		if len(page) < MaxAuditPage {
			return out, nil
		}
	}
}

// AuditTrailPage is up to limit entries (1 to MaxAuditPage) of the audit trail of one of the
// caller's orders after entry after (0: from the first), oldest first: NotFound for an order that
// does not exist or is another application's. READ_ONLY keys may read it. An order created before
// the trail existed has none.
func (s *Service) AuditTrailPage(ctx context.Context, p Principal, orderID string, after int64, limit int) ([]AuditRecord, error) {
	if limit < 1 || limit > MaxAuditPage {
		return nil, fault.Invalid("first", "must be from 1 to %d, got %d", MaxAuditPage, limit)
	}
	if after < 0 {
		return nil, fault.Invalid("after", "must be 0 or an entry's seq, got %d", after)
	}
	o, err := s.Order(ctx, p, orderID)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, fault.NotFoundf("signatureOrderId: no signature order with id %q", orderID)
	}
	if o.AuditKey == nil {
		return nil, nil
	}
	private, err := s.crypt.Decrypt(ctx, o.AuditKey.Private, o.AuditKey.Keys, auditKeyBinding(o.ApplicationID, o.ID))
	if err != nil {
		return nil, fmt.Errorf("decrypt audit key of order %s: %w", o.ID, err)
	}
	opener, err := auditlog.NewOpener(private, o.ID)
	clear(private)
	if err != nil {
		return nil, err
	}
	page, err := s.store.ListAuditEntries(ctx, o.ID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("audit trail of order %s: %w", o.ID, err)
	}
	out := make([]AuditRecord, 0, len(page))
	for _, sealed := range page {
		e, err := opener.Open(sealed.Seq, sealed.Sealed)
		if err != nil {
			return nil, err
		}
		out = append(out, AuditRecord{Seq: sealed.Seq, Entry: e})
	}
	return out, nil
}

// signatureProof is what the trail keeps of how the signatory proved who they are: the provider,
// the evidence's name and claim names, whether it came through a login, and each new version's
// SHA-256.
func signatureProof(o *order.SignatureOrder, sig *order.Signatory, in SignInput, ev evidence.Evidence, sealed []sealedVersion) order.SignatureProof {
	proof := order.SignatureProof{ProviderID: in.ProviderID, Name: ev.Name,
		ClaimNames: slices.Sorted(maps.Keys(ev.Claims)),
		Login:      in.VerifyCode != nil || (in.AllOf != nil && in.AllOf.VerifyCode != nil),
		SHA256:     map[string]string{}}
	for _, p := range o.SignatoryProviders(sig) {
		if p.ID == in.ProviderID {
			proof.ProviderKind = p.Kind
		}
	}
	for _, v := range sealed {
		proof.SHA256[v.documentID] = v.sha256
	}
	return proof
}

// recordLogin adds a signatory's VIEW-stage login to the trail. A login that cannot be recorded
// fails: the trail must not miss an act the signatory could rely on.
func (s *Service) recordLogin(ctx context.Context, sp SignatoryPrincipal, providerID string, ev evidence.Evidence) error {
	_, err := s.store.UpdateOrder(ctx, sp.OrderID, func(o *order.SignatureOrder) error {
		sig := o.Signatory(sp.SignatoryID)
		if sig == nil {
			return fault.Unauthorized()
		}
		o.ActingAs(actorOf(ctx))
		proof := signatureProof(o, sig, SignInput{ProviderID: providerID}, ev, nil)
		proof.Login = true
		o.RecordLogin(sig.ID, order.EvidenceStageView, proof, s.Now())
		return nil
	})
	if err != nil {
		if _, ok := fault.As(err); ok {
			return err
		}
		return fmt.Errorf("record login of signatory %s: %w", sp.SignatoryID, err)
	}
	return nil
}
