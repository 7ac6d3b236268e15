package store

import "esign/internal/order"

// IndexEntry is one secondary key of an order, as the backends store it next to the order.
type IndexEntry struct {
	Kind IndexKind
	Key  string
}

// IndexEntries lists the secondary keys an order has now: every signatory id, every document id and
// every signatory token hash. Empty keys are left out, so a part without (say) a token hash yet is
// simply not findable by one. Backends replace an order's entries with this list whenever they save
// the order, which is what keeps FindOrderID answering for the order's current parts only.
func IndexEntries(o *order.SignatureOrder) []IndexEntry {
	entries := make([]IndexEntry, 0, 2*len(o.Signatories)+len(o.Documents))
	add := func(kind IndexKind, key string) {
		if key != "" {
			entries = append(entries, IndexEntry{Kind: kind, Key: key})
		}
	}
	for _, sig := range o.Signatories {
		add(IndexSignatory, sig.ID)
		add(IndexSignatoryToken, sig.TokenHash)
	}
	for _, doc := range o.Documents {
		add(IndexDocument, doc.ID)
	}
	return entries
}
