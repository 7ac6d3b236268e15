package signing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"

	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/store"
)

// Batch signatories (order/batch.go has the rules): the application names signatories of several of
// its orders, and one person acts for all of them through the batch's own link. Each order is still
// approved, sealed and recorded on its own (its own update, events and audit entries), through the
// same code as a signatory's own signature; only the evidence is checked once.

// BatchPrincipal is a batch signatory authenticated by the token of its link.
type BatchPrincipal struct {
	BatchID string
}

// BatchSignatoryToken is the batch's secret link token, derived like SignatoryToken under its own
// label (a batch's token never opens a signatory's page, nor the reverse) and never stored: the
// store keeps its TokenHash.
func (s *Service) BatchSignatoryToken(batchID string) string {
	mac := hmac.New(sha256.New, s.cfg.TokenKey)
	mac.Write([]byte("esign batch signatory token v1\x00"))
	mac.Write([]byte(batchID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// BatchSignatoryHref is the batch page's link.
func (s *Service) BatchSignatoryHref(batchID string) string {
	return s.cfg.PublicURL + "/batch/" + s.BatchSignatoryToken(batchID)
}

// BatchSignatoryLink is the batch's link and token as p may see them: ok is false for a READ_ONLY
// key (as SignatoryLink: the token signs for every item).
func (s *Service) BatchSignatoryLink(p Principal, batchID string) (href, token string, ok bool) {
	if !p.CanWrite() {
		return "", "", false
	}
	return s.BatchSignatoryHref(batchID), s.BatchSignatoryToken(batchID), true
}

// CreateBatchSignatory makes a batch of p's signatories (createBatchSignatory): every item a SIGNER
// of an open order of p's application who may act now, sharing an evidence provider
// (order.NewBatchSignatory). ui nil: the page takes the first item's signatory's.
func (s *Service) CreateBatchSignatory(ctx context.Context, p Principal, items []order.BatchItem, ui *order.UI) (*order.BatchSignatory, error) {
	if err := requireWrite(p); err != nil {
		return nil, err
	}
	// The shape first, so that an oversized list loads no order.
	if err := order.CheckBatchItems(items); err != nil {
		return nil, err
	}
	targets, err := s.batchTargets(ctx, items)
	if err != nil {
		return nil, err
	}
	b, err := order.NewBatchSignatory(s.NewID(), p.Application.ID, s.NewID(), targets, ui, s.Now())
	if err != nil {
		return nil, err
	}
	b.TokenHash = TokenHash(s.BatchSignatoryToken(b.ID))
	if err := s.store.CreateBatchSignatory(ctx, b); err != nil {
		return nil, fmt.Errorf("save batch signatory %s: %w", b.ID, err)
	}
	return &b, nil
}

// BatchSignatory returns p's batch signatory, or nil when there is none (or it is another
// application's).
func (s *Service) BatchSignatory(ctx context.Context, p Principal, id string) (*order.BatchSignatory, error) {
	b, err := s.store.GetBatchSignatory(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load batch signatory %s: %w", id, err)
	}
	if b.ApplicationID != p.Application.ID {
		return nil, nil
	}
	return &b, nil
}

// BatchTargets are b's items with their orders as they are now (Order nil for an order that no
// longer exists), for p, b's application.
func (s *Service) BatchTargets(ctx context.Context, p Principal, b *order.BatchSignatory) ([]order.BatchTarget, error) {
	if b.ApplicationID != p.Application.ID {
		return nil, fault.NotFoundf("no batch signatory with id %q", b.ID)
	}
	return s.batchTargets(ctx, b.Items)
}

// batchTargets loads each item's order once.
func (s *Service) batchTargets(ctx context.Context, items []order.BatchItem) ([]order.BatchTarget, error) {
	loaded := map[string]*order.SignatureOrder{}
	out := make([]order.BatchTarget, len(items))
	for i, it := range items {
		o, seen := loaded[it.OrderID]
		if !seen {
			var err error
			o, err = s.store.GetOrder(ctx, it.OrderID)
			if errors.Is(err, store.ErrNotFound) {
				o, err = nil, nil
			}
			if err != nil {
				return nil, fmt.Errorf("load order %s of batch item %d: %w", it.OrderID, i, err)
			}
			loaded[it.OrderID] = o
		}
		out[i] = order.BatchTarget{Item: it, Order: o}
	}
	return out, nil
}

// AuthenticateBatchSignatory resolves a batch link's token. ok is false for a token that names no
// batch, or one derived under another token key.
func (s *Service) AuthenticateBatchSignatory(ctx context.Context, token string) (BatchPrincipal, bool, error) {
	if token == "" {
		return BatchPrincipal{}, false, nil
	}
	b, err := s.store.FindBatchSignatoryByTokenHash(ctx, TokenHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return BatchPrincipal{}, false, nil
	}
	if err != nil {
		return BatchPrincipal{}, false, fmt.Errorf("find batch signatory of token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(s.BatchSignatoryToken(b.ID)), []byte(token)) != 1 {
		return BatchPrincipal{}, false, nil
	}
	return BatchPrincipal{BatchID: b.ID}, true, nil
}

// batchOf loads the principal's batch and its targets.
func (s *Service) batchOf(ctx context.Context, bp BatchPrincipal) (*order.BatchSignatory, []order.BatchTarget, error) {
	b, err := s.store.GetBatchSignatory(ctx, bp.BatchID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, fault.Unauthorized()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load batch signatory %s: %w", bp.BatchID, err)
	}
	targets, err := s.batchTargets(ctx, b.Items)
	if err != nil {
		return nil, nil, err
	}
	return &b, targets, nil
}

// BatchView is what the batch's person sees and may do now: every item with its signatory's own
// view (order.ViewOf) and why it cannot act, and the providers the actionable items share.
func (s *Service) BatchView(ctx context.Context, bp BatchPrincipal) (order.BatchView, error) {
	b, targets, err := s.batchOf(ctx, bp)
	if err != nil {
		return order.BatchView{}, err
	}
	return order.ViewOfBatch(b, targets, s.Now()), nil
}

// batchItem is the item of bp's batch for that order and signatory (the page names documents by
// order), or a NotFound error.
func (s *Service) batchItem(ctx context.Context, bp BatchPrincipal, orderID string) (order.BatchItemView, error) {
	v, err := s.BatchView(ctx, bp)
	if err != nil {
		return order.BatchItemView{}, err
	}
	for _, it := range v.Items {
		if it.Item.OrderID == orderID && it.View != nil {
			return it, nil
		}
	}
	return order.BatchItemView{}, fault.NotFoundf("the batch has no signatory of signature order %q", orderID)
}

// BatchDocumentBytes returns one document of an item of the batch (empty for a document that is
// not the item's signatory's) and records that it was opened while the item can still act.
func (s *Service) BatchDocumentBytes(ctx context.Context, bp BatchPrincipal, orderID, documentID string) (DocumentBytes, error) {
	it, err := s.batchItem(ctx, bp, orderID)
	if err != nil {
		return DocumentBytes{}, err
	}
	if it.Blocked == order.BlockedViewLogin {
		return DocumentBytes{}, fault.Forbiddenf("this signature order requires login before viewing")
	}
	if it.View.Document(documentID) == nil {
		return DocumentBytes{}, nil
	}
	b, err := s.readDocument(ctx, it.Order, it.Order.Document(documentID))
	if err != nil {
		return DocumentBytes{}, err
	}
	if it.Actionable() {
		sp := SignatoryPrincipal{OrderID: it.Item.OrderID, SignatoryID: it.Item.SignatoryID}
		if _, _, err := s.SetDocumentStatus(ctx, sp, documentID, order.DocumentOpened); err != nil {
			// The document is shown either way; the trail misses one "opened".
			s.log.WarnContext(ctx, "record batch document opened", "order", orderID, "err", err)
		}
	}
	return b, nil
}

// BatchResult is what a batch step did to each item, in the batch's order. A step never stops at a
// failed item: the others are still done, and each failure is reported with its reason.
type BatchResult struct {
	Items []BatchItemResult
}

// BatchItemResult is one item's outcome: Err nil when the step was done; otherwise why not (a
// fault.Error for a reason the person can read, such as a closed order or a signatory who signed
// already). Order is the order as the step left it, nil when it no longer exists.
type BatchItemResult struct {
	Item  order.BatchItem
	Order *order.SignatureOrder
	Err   error
}

// Failed are the items the step could not do.
func (r BatchResult) Failed() []BatchItemResult {
	var out []BatchItemResult
	for _, it := range r.Items {
		if it.Err != nil {
			out = append(out, it)
		}
	}
	return out
}

// Partial reports whether some items were done and others not.
func (r BatchResult) Partial() bool {
	failed := len(r.Failed())
	return failed > 0 && failed < len(r.Items)
}

// blockedError says why an item cannot act, as the person reads it.
func blockedError(b order.Blocked) error {
	switch b {
	case order.BlockedSigned:
		return fault.Conflictf("the signatory has signed already")
	case order.BlockedApproved:
		return fault.Conflictf("the signatory has approved already")
	case order.BlockedRejected:
		return fault.Conflictf("the signatory rejected the signature order")
	case order.BlockedClosed, order.BlockedNotOpen:
		return fault.Conflictf("the signature order is closed")
	case order.BlockedCancelled:
		return fault.Conflictf("the signature order was cancelled")
	case order.BlockedExpired:
		return fault.Conflictf("the signature order has expired")
	case order.BlockedNotTurn:
		return fault.Conflictf("it is not this signatory's turn yet: signatories with a lower signingSequence go first")
	case order.BlockedCooldown:
		return fault.Conflictf("the signatory may not act before their cooldown expires")
	case order.BlockedGone:
		return fault.Conflictf("the signature order or its signatory no longer exists")
	case order.BlockedViewLogin:
		return fault.Conflictf("the signature order asks for a login before viewing, which a batch signatory cannot give")
	case order.BlockedNotSigner:
		return fault.Conflictf("the signatory does not sign")
	}
	return fault.Conflictf("the signatory cannot act now (%s)", b)
}

// ApproveBatch approves every document of every item that can act now ("approve all" on the batch
// page), each order in its own update with its own events and audit entries.
func (s *Service) ApproveBatch(ctx context.Context, bp BatchPrincipal) (BatchResult, error) {
	v, err := s.BatchView(ctx, bp)
	if err != nil {
		return BatchResult{}, err
	}
	res := BatchResult{Items: make([]BatchItemResult, len(v.Items))}
	for i, it := range v.Items {
		res.Items[i] = BatchItemResult{Item: it.Item, Order: it.Order}
		if !it.Actionable() {
			res.Items[i].Err = blockedError(it.Blocked)
			continue
		}
		sp := SignatoryPrincipal{OrderID: it.Item.OrderID, SignatoryID: it.Item.SignatoryID}
		o, _, err := s.updateAsSignatory(ctx, sp, func(o *order.SignatureOrder) error {
			sig := o.Signatory(sp.SignatoryID)
			if sig == nil {
				return blockedError(order.BlockedGone)
			}
			for _, vd := range o.ViewOf(sig, s.Now(), false).Documents {
				if vd.Approved() || vd.Role == order.RoleViewer {
					continue // a document only to view is not approved
				}
				if err := o.SetDocumentStatus(sig.ID, vd.Document.ID, order.DocumentApproved, s.Now()); err != nil {
					return err
				}
			}
			return nil
		})
		res.Items[i].Err = s.itemError(ctx, it.Item, "approve", err)
		if o != nil {
			res.Items[i].Order = o
		}
	}
	return res, nil
}

// itemError logs an item's failure that is not the person's to read (the database, the blob store)
// and returns err.
func (s *Service) itemError(ctx context.Context, it order.BatchItem, step string, err error) error {
	if _, ok := fault.As(err); err != nil && !ok {
		s.log.ErrorContext(ctx, "batch item failed", "step", step, "order", it.OrderID, "signatory", it.SignatoryID, "err", err)
	}
	return err
}

// SignBatch signs every item that can sign now with one piece of evidence: checked once, with the
// provider every signable item shares (in.ProviderID is its id in any item's order), then each order
// is sealed and recorded through Sign's own path (sealAndRecord), in its own update with its own
// events. An item that cannot sign (its order closed, its signatory signed or not approved, its
// evidenceValidation not met, a seal that failed) is reported in the result with its reason and
// leaves the others signed. The error is for the whole call: no item was signed (the evidence was
// refused, nothing can sign, or the batch is unknown).
//
// A login's authorization code (VerifyCode) is refused: its state names one order's signatory.
// ID tokens (oidc.jwt, criiptoVerify jwt), drawn signatures and noop are accepted.
func (s *Service) SignBatch(ctx context.Context, bp BatchPrincipal, in SignInput) (BatchResult, error) {
	if s.cfg.Sealer == nil {
		return BatchResult{}, fault.NotImplemented("sign (no document sealer is configured)")
	}
	if in.VerifyCode != nil || (in.AllOf != nil && in.AllOf.VerifyCode != nil) {
		return BatchResult{}, fault.NotImplemented("a login's authorization code for a batch signatory (sign with an ID token or a drawn signature)")
	}
	if len(in.Documents) > 0 {
		return BatchResult{}, fault.Invalid("documents", "a batch signatory does not fill in documents' forms")
	}
	v, err := s.BatchView(ctx, bp)
	if err != nil {
		return BatchResult{}, err
	}
	now := s.Now()
	res := BatchResult{Items: make([]BatchItemResult, len(v.Items))}
	var signable []int
	var targets []order.BatchTarget
	for i, it := range v.Items {
		res.Items[i] = BatchItemResult{Item: it.Item, Order: it.Order}
		if !it.Actionable() {
			res.Items[i].Err = blockedError(it.Blocked)
			continue
		}
		if _, err := it.Order.CheckCanSign(it.Item.SignatoryID, now); err != nil {
			res.Items[i].Err = err
			continue
		}
		signable = append(signable, i)
		targets = append(targets, order.BatchTarget{Item: it.Item, Order: it.Order})
	}
	if len(signable) == 0 {
		return res, fault.Conflictf("no signatory of the batch can sign now")
	}
	providers, err := order.BatchProviders(targets)
	if err != nil {
		return res, err
	}
	chosen := batchProviderNamed(providers, in.ProviderID)
	if chosen == nil {
		return res, fault.Invalid("id", "%q is not an evidence provider every signatory of the batch may use", in.ProviderID)
	}
	first := v.Items[signable[0]]
	firstIn := in
	firstIn.ProviderID = chosen.IDs[first.Item]
	// Once: an ID token is verified once, a drawing checked once, and every order is sealed with
	// the same evidence (the same person proved who they are once for all of them).
	ev, err := s.evidenceFor(ctx, first.Order, first.View.Signatory, firstIn)
	if err != nil {
		for _, i := range signable {
			it := v.Items[i]
			_ = s.signError(ctx, it.Order, it.Item.SignatoryID, err)
		}
		return res, err
	}
	for _, i := range signable {
		it := v.Items[i]
		itemIn := in
		itemIn.ProviderID = chosen.IDs[it.Item]
		o, err := s.signBatchItem(ctx, it, itemIn, ev)
		res.Items[i].Err = s.itemError(ctx, it.Item, "sign", err)
		if o != nil {
			res.Items[i].Order = o
		}
	}
	return res, nil
}

// signBatchItem seals and records one item with evidence checked already: the signatory's own
// evidenceValidation and document forms are checked for this order, as Sign checks them.
func (s *Service) signBatchItem(ctx context.Context, it order.BatchItemView, in SignInput, ev evidence.Evidence) (*order.SignatureOrder, error) {
	o, sig := it.Order, it.View.Signatory
	if err := evidence.CheckValidation(sig.EvidenceValidation, ev); err != nil {
		return nil, s.signError(ctx, o, sig.ID, err)
	}
	forms, err := checkForms(o, sig, nil, s.Now())
	if err != nil {
		return nil, err
	}
	// A uniqueEvidenceKey is the provider's setting, the same in every item's order; each order
	// claims it for its own signatory (ClaimEvidenceKey in sealAndRecord).
	return s.sealAndRecord(ctx, SignatoryPrincipal{OrderID: o.ID, SignatoryID: sig.ID}, o, sig, in, ev, forms)
}

// batchProviderNamed is the provider among providers that has id in any item's order, or nil.
func batchProviderNamed(providers []order.BatchProvider, id string) *order.BatchProvider {
	for i := range providers {
		for _, pid := range providers[i].IDs {
			if pid == id {
				return &providers[i]
			}
		}
	}
	return nil
}

// StartBatchLogin starts the SIGN-stage login with which the batch's person signs every item at
// once (CompleteBatchLogin): providerID names a criiptoVerify or oidc provider the batch offers
// (BatchView's Providers). Every item's provider has the same settings (order.BatchProviders), so
// the login's client is the same for all of them. The state names the batch, not an order's
// signatory; browser binds it to the hosted page's cookie.
func (s *Service) StartBatchLogin(ctx context.Context, bp BatchPrincipal, providerID, acrValue, redirectURI, browser string) (authURL, state string, err error) {
	if s.cfg.Login == nil {
		return "", "", fault.NotImplemented("OpenID Connect login (no login flow is configured)")
	}
	v, err := s.BatchView(ctx, bp)
	if err != nil {
		return "", "", err
	}
	p, err := s.batchLoginProvider(v, providerID)
	if err != nil {
		return "", "", err
	}
	scope, hint := loginScope(p.Provider)
	return s.cfg.Login.Start(ctx, evidence.LoginRequest{Client: s.loginClient(p.Provider), RedirectURI: redirectURI,
		AcrValue: acrValue, Scope: scope, LoginHint: hint, For: batchLoginPurpose(bp, providerID, browser)})
}

// CompleteBatchLogin completes a login StartBatchLogin started and signs every item that can sign
// with its ID token (SignBatch: checked once, each order sealed on its own). The code is exchanged
// once, and only while some item can still sign: a second callback with the same state is refused
// before it reaches the identity provider. An error with an empty result: nothing was signed and
// the login was not used, or it was refused.
func (s *Service) CompleteBatchLogin(ctx context.Context, bp BatchPrincipal, code LoginCode, browser string) (BatchResult, error) {
	if s.cfg.Login == nil {
		return BatchResult{}, fault.NotImplemented("OpenID Connect login (no login flow is configured)")
	}
	started, err := s.cfg.Login.Purpose(code.State)
	if err != nil {
		return BatchResult{}, err
	}
	if started.Batch != bp.BatchID {
		return BatchResult{}, fault.Invalid("state", "belongs to another signatory, provider or stage")
	}
	v, err := s.BatchView(ctx, bp)
	if err != nil {
		return BatchResult{}, err
	}
	p, err := s.batchLoginProvider(v, started.ProviderID)
	if err != nil {
		return BatchResult{}, err
	}
	ev, err := s.cfg.Login.Complete(ctx, s.loginClient(p.Provider), code.Code, code.State, batchLoginPurpose(bp, started.ProviderID, browser))
	if err != nil {
		return BatchResult{}, err
	}
	jwt := evidence.RawJWT(ev)
	in := SignInput{ProviderID: started.ProviderID}
	if p.Provider.Kind == order.ProviderOIDC {
		in.OIDCJWT = &jwt
	} else {
		in.VerifyJWT = &jwt
	}
	return s.SignBatch(ctx, bp, in)
}

// batchLoginPurpose is what a batch's login is for: no order's signatory, the batch.
func batchLoginPurpose(bp BatchPrincipal, providerID, browser string) evidence.LoginPurpose {
	return evidence.LoginPurpose{ProviderID: providerID, Stage: order.EvidenceStageSign, Browser: browser, Batch: bp.BatchID}
}

// batchLoginProvider is the login provider named providerID (its id in any item's order) that the
// batch's signable items share, or why a login cannot sign now.
func (s *Service) batchLoginProvider(v order.BatchView, providerID string) (*order.BatchProvider, error) {
	now, signable := s.Now(), false
	for _, it := range v.Items {
		if it.Actionable() {
			if _, err := it.Order.CheckCanSign(it.Item.SignatoryID, now); err == nil {
				signable = true
			}
		}
	}
	if !signable {
		return nil, fault.Conflictf("no signatory of the batch can sign now")
	}
	p := batchProviderNamed(v.Providers, providerID)
	if p == nil {
		return nil, fault.Invalid("id", "%q is not an evidence provider every signatory of the batch may use", providerID)
	}
	if p.Provider.Kind != order.ProviderOIDC && p.Provider.Kind != order.ProviderCriiptoVerify {
		return nil, fault.Invalid("id", "%q is not an OpenID Connect evidence provider", providerID)
	}
	return p, nil
}
