package order

import (
	"encoding/json"
	"fmt"
	"time"

	"esign/internal/fault"
)

// A batch signatory is one person acting for signatories of several orders of one application
// (createBatchSignatory): they see every document of every item on one page, prove who they are
// once, and each order is sealed and recorded on its own, as if its signatory had signed alone.
//
// "Once" decides which evidence providers a batch offers: only a provider that every item's
// signatory has with the same kind and the same settings (BatchProviders) — the same OIDC domain,
// client, audience and acr values, the same drawable requirements — because then one piece of
// evidence, checked once, satisfies each order exactly as it would have on its own page. Provider
// ids differ between orders, so a batch provider carries the id it has in each item's order. Items
// with nothing in common are refused at creation, naming the first item that shares nothing with
// the ones before it. (Criipto's guide says the same: every signatory must share at least one
// evidence provider.)

// BatchSignatory is a batch as stored. Its token is derived from the id (signing.BatchSignatoryToken)
// and only its hash is kept.
type BatchSignatory struct {
	ID            string
	ApplicationID string
	Items         []BatchItem
	// TokenHash is the hex SHA-256 of the batch's token; the token itself is never stored.
	TokenHash string
	// UI is the batch page's configuration; nil: the first item's signatory's (UIFor).
	UI        *UI
	TraceID   string
	CreatedAt time.Time
}

// BatchItem is one signatory of one order in a batch.
type BatchItem struct {
	OrderID     string
	SignatoryID string
}

// BatchTarget is an item with its order as loaded now; Order is nil when the order no longer
// exists.
type BatchTarget struct {
	Item  BatchItem
	Order *SignatureOrder
}

// Blocked reasons only a batch item can have (the others come from ViewOf).
const (
	BlockedGone      Blocked = "gone"       // the order, or the signatory in it, no longer exists
	BlockedViewLogin Blocked = "view login" // the order asks for a login before viewing, which a batch cannot give
	BlockedNotSigner Blocked = "not signer" // the signatory is an APPROVER or VIEWER
)

// CheckBatchItems checks the items' shape: 1..MaxBatchItems items, none twice.
func CheckBatchItems(items []BatchItem) error {
	if len(items) == 0 {
		return fault.Invalid("items", "must name at least one signatory")
	}
	if len(items) > MaxBatchItems {
		return fault.Invalid("items", "must name at most %d signatories", MaxBatchItems)
	}
	seen := map[BatchItem]int{}
	for i, it := range items {
		if it.OrderID == "" || it.SignatoryID == "" {
			return fault.Invalid(fmt.Sprintf("items[%d]", i), "needs a signatureOrderId and a signatoryId")
		}
		if j, ok := seen[it]; ok {
			return fault.Invalid(fmt.Sprintf("items[%d]", i), "repeats items[%d]", j)
		}
		seen[it] = i
	}
	return nil
}

// NewBatchSignatory checks a batch of the application over targets (the items with their orders
// loaded, in the order given) at now and returns it without token hash. Every item must be a
// SIGNER of an open order of the application who may act now (its turn, not signed or rejected),
// the order must not ask for a VIEW-stage login, and the items must share an evidence provider.
// Approvals are not required: the batch page asks for them.
func NewBatchSignatory(id, applicationID, traceID string, targets []BatchTarget, ui *UI, now time.Time) (BatchSignatory, error) {
	items := make([]BatchItem, len(targets))
	for i, t := range targets {
		items[i] = t.Item
	}
	if err := CheckBatchItems(items); err != nil {
		return BatchSignatory{}, err
	}
	for i, t := range targets {
		field := fmt.Sprintf("items[%d]", i)
		if t.Order == nil || t.Order.ApplicationID != applicationID {
			return BatchSignatory{}, atItem(field, fault.NotFoundf("no signature order with id %q", t.Item.OrderID))
		}
		s := t.Order.Signatory(t.Item.SignatoryID)
		if s == nil {
			return BatchSignatory{}, atItem(field, fault.NotFoundf("signatureOrder does not contain the defined signatory"))
		}
		if err := t.Order.checkBatchable(s, now); err != nil {
			return BatchSignatory{}, atItem(field, err)
		}
	}
	if _, err := BatchProviders(targets); err != nil {
		return BatchSignatory{}, err
	}
	var checked *UI
	if ui != nil {
		u, err := checkUI("ui", ui)
		if err != nil {
			return BatchSignatory{}, err
		}
		checked = &u
	}
	return BatchSignatory{ID: id, ApplicationID: applicationID, Items: items, UI: checked, TraceID: traceID,
		CreatedAt: now}, nil
}

// atItem names the item an error is about (any coded error, not only invalid input: "items[1]:
// signature order is CLOSED" tells the integrator which pair to drop).
func atItem(field string, err error) error {
	e, ok := fault.As(err)
	if !ok {
		return err
	}
	named := *e
	named.Field = field
	return &named
}

// checkBatchable is what signing checks that an approval on the batch page cannot change: the
// order is open and not expired, the signatory may act now (their turn, still OPEN), is a SIGNER,
// and the order asks for no VIEW-stage login.
func (o *SignatureOrder) checkBatchable(s *Signatory, now time.Time) error {
	if err := o.requireActive(s, now); err != nil {
		return err
	}
	if s.SignatoryRole != RoleSigner {
		return fault.Conflictf("a %s does not sign", s.SignatoryRole)
	}
	if o.NeedsViewLogin() {
		return fault.Conflictf("the signature order asks for a login before viewing, which a batch signatory cannot give")
	}
	return nil
}

// BatchProvider is an evidence provider every given item's signatory has: Provider as the first
// item's signatory has it, and its id in each item's order.
type BatchProvider struct {
	Provider EvidenceProvider
	IDs      map[BatchItem]string
}

// BatchProviders are the providers common to every target's signatory, by kind and settings, in
// the first signatory's order; an error names the first item that shares none with those before it.
// Targets must have their order and signatory (NewBatchSignatory checks).
func BatchProviders(targets []BatchTarget) ([]BatchProvider, error) {
	var common []BatchProvider
	for i, t := range targets {
		providers := t.Order.SignatoryProviders(t.Order.Signatory(t.Item.SignatoryID))
		if i == 0 {
			for _, p := range providers {
				common = append(common, BatchProvider{Provider: p, IDs: map[BatchItem]string{t.Item: p.ID}})
			}
			continue
		}
		var kept []BatchProvider
		for _, c := range common {
			for _, p := range providers {
				if sameProvider(c.Provider, p) {
					c.IDs[t.Item] = p.ID
					kept = append(kept, c)
					break
				}
			}
		}
		if len(kept) == 0 {
			return nil, fault.Invalid(fmt.Sprintf("items[%d]", i),
				"the signatory shares no evidence provider (same kind and settings) with the items before it: a batch signatory proves who they are once for all")
		}
		common = kept
	}
	if len(common) == 0 {
		return nil, fault.Invalid("items[0]", "the signatory has no evidence provider")
	}
	return common, nil
}

// sameProvider reports whether a and b are the same provider in different orders: every setting
// equal, ids and enabledByDefault aside.
func sameProvider(a, b EvidenceProvider) bool {
	return a.Kind == b.Kind && providerSettings(a) == providerSettings(b)
}

func providerSettings(p EvidenceProvider) string {
	p = withoutIDs(p)
	b, err := json.Marshal(p)
	if err != nil {
		// Only plain fields: cannot happen; never equal to another provider.
		return fmt.Sprintf("unencodable %p", &p)
	}
	return string(b)
}

func withoutIDs(p EvidenceProvider) EvidenceProvider {
	p.ID, p.EnabledByDefault = "", false
	if p.AllOf != nil {
		members := make([]EvidenceProvider, len(p.AllOf))
		for i, m := range p.AllOf {
			members[i] = withoutIDs(m)
		}
		p.AllOf = members
	}
	return p
}

// ID of a batch provider, as the batch page and viewer name it: its id in the first item's order.
func (p BatchProvider) ID() string { return p.Provider.ID }

// BatchView is what the person behind a batch sees and may do now.
type BatchView struct {
	Batch *BatchSignatory
	// UI is the batch's own, else the first item's signatory's (UIFor), else the default.
	UI    UI
	Items []BatchItemView
	// Providers are those common to the items that can act now (Blocked none); none when no item can.
	Providers []BatchProvider
	// ProvidersProblem is why the actionable items share no provider any more ("" when they do):
	// an order's providers changed after the batch was made.
	ProvidersProblem string
}

// BatchItemView is one item as it stands: its order and the signatory's own view (nil when gone),
// and why it cannot act now.
type BatchItemView struct {
	Item    BatchItem
	Order   *SignatureOrder
	View    *SignatoryView
	Blocked Blocked
}

// Actionable reports whether the item can be approved and signed now.
func (v BatchItemView) Actionable() bool { return v.Blocked == BlockedNone }

// ViewOfBatch is what b's person sees at now, over targets (b's items with their orders loaded).
func ViewOfBatch(b *BatchSignatory, targets []BatchTarget, now time.Time) BatchView {
	v := BatchView{Batch: b, UI: UI{Language: DefaultLanguage}}
	var actionable []BatchTarget
	for _, t := range targets {
		iv := BatchItemView{Item: t.Item, Order: t.Order}
		var s *Signatory
		if t.Order != nil {
			s = t.Order.Signatory(t.Item.SignatoryID)
		}
		switch {
		case s == nil:
			iv.Blocked = BlockedGone
		default:
			sv := t.Order.ViewOf(s, now, false)
			iv.View = &sv
			iv.Blocked = sv.Blocked
			if iv.Blocked == BlockedNone && s.SignatoryRole != RoleSigner {
				iv.Blocked = BlockedNotSigner
			}
			if iv.Blocked == BlockedNone && sv.LoginNeeded {
				iv.Blocked = BlockedViewLogin
			}
		}
		if iv.Blocked == BlockedNone {
			actionable = append(actionable, t)
		}
		v.Items = append(v.Items, iv)
	}
	switch {
	case b.UI != nil:
		v.UI = *b.UI
	case len(v.Items) > 0 && v.Items[0].View != nil:
		v.UI = v.Items[0].View.UI
	}
	if v.UI.Language == "" {
		v.UI.Language = DefaultLanguage
	}
	if len(actionable) > 0 {
		providers, err := BatchProviders(actionable)
		if err != nil {
			v.ProvidersProblem = err.Error()
		}
		v.Providers = providers
	}
	return v
}

// Provider is the batch provider with id (its id in the first actionable item's order), or nil.
func (v BatchView) Provider(id string) *BatchProvider {
	for i := range v.Providers {
		if v.Providers[i].ID() == id {
			return &v.Providers[i]
		}
	}
	return nil
}

// Status is the batch's status as one signatory's: SIGNED once every item's signatory signed,
// OPEN while any can still act, REJECTED when one rejected and none can act, else OPEN.
func (v BatchView) Status() SignatoryStatus {
	signed, rejected := 0, false
	for _, it := range v.Items {
		if it.Actionable() {
			return SignatoryOpen
		}
		if it.View != nil {
			switch it.View.Signatory.Status {
			case SignatorySigned:
				signed++
			case SignatoryRejected:
				rejected = true
			}
		}
	}
	switch {
	case len(v.Items) > 0 && signed == len(v.Items):
		return SignatorySigned
	case rejected:
		return SignatoryRejected
	}
	return SignatoryOpen
}

// AllApproved reports whether every document of every actionable item is approved (or preapproved).
func (v BatchView) AllApproved() bool {
	for _, it := range v.Items {
		if it.Actionable() && !it.View.AllApproved {
			return false
		}
	}
	return true
}
