package graph

import (
	"context"

	"esign/graph/model"
	"esign/internal/order"
	"esign/internal/signing"
)

// createBatchSignatory answers createBatchSignatory: the batch over the items, checked by the
// service (one application, signatories who can sign, an evidence provider they share).
func (r *Resolver) createBatchSignatory(ctx context.Context, in model.CreateBatchSignatoryInput) (*model.CreateBatchSignatoryOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]order.BatchItem, 0, len(in.Items))
	for _, it := range in.Items {
		items = append(items, order.BatchItem{OrderID: it.SignatureOrderID, SignatoryID: it.SignatoryID})
	}
	var ui *order.UI
	if in.UI != nil {
		ui = uiDraft(model.CreateSignatureOrderUIInput(*in.UI))
	}
	b, err := r.Service.CreateBatchSignatory(ctx, p, items, ui)
	if err != nil {
		return nil, err
	}
	m, err := r.batchModel(ctx, p, b)
	if err != nil {
		return nil, err
	}
	return &model.CreateBatchSignatoryOutput{BatchSignatory: m}, nil
}

// batchSignatory answers batchSignatory(id): null for an id that names none of the caller's.
func (r *Resolver) batchSignatory(ctx context.Context, id string) (*model.BatchSignatory, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	b, err := r.Service.BatchSignatory(ctx, p, id)
	if err != nil || b == nil {
		return nil, err
	}
	return r.batchModel(ctx, p, b)
}

// batchModel is a batch signatory as its application sees it: its link and token (empty for a
// READ_ONLY key, like a signatory's) and its items whose order and signatory still exist.
func (r *Resolver) batchModel(ctx context.Context, p signing.Principal, b *order.BatchSignatory) (*model.BatchSignatory, error) {
	targets, err := r.Service.BatchTargets(ctx, p, b)
	if err != nil {
		return nil, err
	}
	href, token, _ := r.Service.BatchSignatoryLink(p, b.ID)
	m := &model.BatchSignatory{ID: b.ID, Href: href, Token: token, TraceID: b.TraceID, Items: []*model.BatchSignatoryItem{}}
	var ui *order.UI
	for _, t := range targets {
		if t.Order == nil {
			continue
		}
		s := t.Order.Signatory(t.Item.SignatoryID)
		if s == nil {
			continue
		}
		if ui == nil {
			u := t.Order.UIFor(s)
			ui = &u
		}
		m.Items = append(m.Items, &model.BatchSignatoryItem{Signatory: r.signatoryModel(t.Order, s), SignatureOrder: r.orderModel(t.Order)})
	}
	switch {
	case b.UI != nil:
		m.UI = uiModel(*b.UI)
	case ui != nil:
		m.UI = uiModel(*ui)
	default:
		m.UI = uiModel(order.UI{Language: "EN_US"})
	}
	return m, nil
}

// batchViewer is what a batch signatory's token shows: every document of every item it can act on,
// the providers the items share, and where the batch stands.
func (r *Resolver) batchViewer(ctx context.Context, bp signing.BatchPrincipal) (model.Viewer, error) {
	v, err := r.Service.BatchView(ctx, bp)
	if err != nil {
		return nil, err
	}
	m := &model.BatchSignatoryViewer{ID: v.Batch.ID, BatchSignatoryID: v.Batch.ID, Authenticated: true, Signer: true,
		Status: model.SignatoryStatus(v.Status()), TraceID: v.Batch.TraceID, UI: uiModel(v.UI),
		Documents:         &model.SignatoryDocumentConnection{Edges: []*model.SignatoryDocumentEdge{}},
		EvidenceProviders: []model.SignatureEvidenceProvider{}}
	for _, p := range v.Providers {
		pm := p.Provider
		pm.ID = p.ID()
		m.EvidenceProviders = append(m.EvidenceProviders, providerModel(pm))
	}
	for _, it := range v.Items {
		if it.View == nil || it.Blocked == order.BlockedGone || it.Blocked == order.BlockedViewLogin {
			continue
		}
		for _, vd := range it.View.Documents {
			m.Documents.Edges = append(m.Documents.Edges, viewerEdge(it.Order, vd))
		}
	}
	return m, nil
}
