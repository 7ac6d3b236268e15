package graph

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"esign/graph/model"
	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/signing"
)

// Domain → GraphQL.

func (r *Resolver) orderModel(o *order.SignatureOrder) *model.SignatureOrder {
	m := &model.SignatureOrder{
		ApplicationID:  o.ApplicationID,
		ClosedAt:       o.ClosedAt,
		CreatedAt:      o.CreatedAt,
		ExpiresAt:      o.ExpiresAt,
		ID:             o.ID,
		MaxSignatories: o.MaxSignatories,
		Status:         model.SignatureOrderStatus(o.Status),
		Timezone:       o.Timezone,
		Title:          o.Title,
		TraceID:        o.TraceID,
		UI:             uiModel(o.UI),
		Documents:      make([]model.Document, 0, len(o.Documents)),
		Signatories:    make([]*model.Signatory, 0, len(o.Signatories)),
	}
	for i := range o.Documents {
		m.Documents = append(m.Documents, documentModel(o, &o.Documents[i]))
	}
	for i := range o.Signatories {
		m.Signatories = append(m.Signatories, r.signatoryModel(o, &o.Signatories[i]))
	}
	for _, p := range o.EvidenceProviders {
		m.EvidenceProviders = append(m.EvidenceProviders, providerModel(p))
	}
	if m.EvidenceProviders == nil {
		m.EvidenceProviders = []model.SignatureEvidenceProvider{}
	}
	if o.Webhook != nil {
		m.Webhook = &model.SignatureOrderWebhook{URL: o.Webhook.URL, OrderID: o.ID}
	}
	return m
}

func documentModel(o *order.SignatureOrder, d *order.Document) model.Document {
	doc := &model.PDFDocument{
		ID:         d.ID,
		Title:      d.Title,
		Reference:  d.Reference,
		DocumentID: d.DocumentID,
		Signatures: []model.Signature{},
		Ref:        model.DocumentRef{OrderID: o.ID, DocumentID: d.ID},
	}
	// A document with signatory fields has a form (theirs) whether or not its own was enabled.
	if d.FormEnabled != nil || o.HasFields(d.ID) {
		doc.Form = &model.PDFDocumentForm{Enabled: deref(d.FormEnabled), Ref: doc.Ref}
	}
	return doc
}

func uiModel(ui order.UI) *model.SignatureOrderUI {
	m := &model.SignatureOrderUI{
		DisableRejection:         ui.DisableRejection,
		EnableCancel:             ui.EnableCancel,
		Language:                 model.Language(ui.Language),
		RenderPDFAnnotationLayer: ui.RenderPdfAnnotationLayer,
		SignatoryRedirectURI:     ui.SignatoryRedirectURI,
		Stylesheet:               ui.Stylesheet,
	}
	if ui.Logo != nil {
		m.Logo = &model.SignatureOrderUILogo{Src: ui.Logo.Src, Href: ui.Logo.Href}
	}
	return m
}

// signatoryModel is a signatory as the application sees it: what the signatory sees (the same UI,
// documents and providers as their viewer), whether or not they logged in for the VIEW stage.
func (r *Resolver) signatoryModel(o *order.SignatureOrder, s *order.Signatory) *model.Signatory {
	view := r.Service.ViewOf(o, s, true)
	m := &model.Signatory{
		OrderID:           o.ID,
		Order:             o,
		CooldownExpiresAt: s.CooldownExpiresAt,
		ID:                s.ID,
		Reference:         s.Reference,
		Role:              s.Role,
		SignatoryRole:     model.SignatoryRole(s.SignatoryRole),
		SigningAs:         s.SigningAs,
		SigningSequence:   &model.SignatorySigningSequence{InitialNumber: s.SigningSequence},
		SpanID:            s.SpanID,
		Status:            model.SignatoryStatus(s.Status),
		StatusReason:      s.StatusReason,
		TraceID:           o.TraceID,
		UI:                uiModel(view.UI),
		Documents:         &model.SignatoryDocumentConnection{Edges: []*model.SignatoryDocumentEdge{}},
		EvidenceProviders: providersModel(view.Providers),
	}
	for _, vd := range view.Documents {
		edge := &model.SignatoryDocumentEdge{Node: documentModel(o, vd.Document), Status: documentStatusModel(vd.Status)}
		m.Documents.Edges = append(m.Documents.Edges, edge)
	}
	return m
}

func providersModel(ps []order.EvidenceProvider) []model.SignatureEvidenceProvider {
	out := make([]model.SignatureEvidenceProvider, 0, len(ps))
	for _, p := range ps {
		out = append(out, providerModel(p))
	}
	return out
}

func documentStatusModel(st *order.DocumentStatus) *model.SignatoryDocumentStatus {
	if st == nil {
		return nil
	}
	status := model.SignatoryDocumentStatus(*st)
	return &status
}

func providerModel(p order.EvidenceProvider) model.SignatureEvidenceProvider {
	switch p.Kind {
	case order.ProviderAllOf:
		m := &model.AllOfSignatureEvidenceProvider{ID: p.ID, Providers: []model.SingleSignatureEvidenceProvider{}}
		for _, sub := range p.AllOf {
			if single, ok := providerModel(sub).(model.SingleSignatureEvidenceProvider); ok {
				m.Providers = append(m.Providers, single)
			}
		}
		return m
	case order.ProviderOIDC:
		o := p.OIDC
		return &model.OidcJWTSignatureEvidenceProvider{ID: p.ID, Name: o.Name, Domain: o.Domain, ClientID: o.ClientID,
			AcrValues: nonNil(o.AcrValues), AlwaysRedirect: o.AlwaysRedirect}
	case order.ProviderCriiptoVerify:
		c := p.CriiptoVerify
		audience := c.ClientID
		if len(c.Audiences) > 0 {
			audience = c.Audiences[0]
		}
		return &model.CriiptoVerifySignatureEvidenceProvider{ID: p.ID, Name: "criiptoVerify", Domain: c.Domain,
			ClientID: c.ClientID, Audience: audience, Audiences: nonNil(c.Audiences), AcrValues: nonNil(c.AcrValues),
			AlwaysRedirect: c.AlwaysRedirect, LoginHint: c.LoginHint, Message: c.Message, Scope: c.Scope,
			Version: model.CriiptoVerifyEvidenceProviderVersion(c.Version)}
	case order.ProviderNoop:
		return &model.NoopSignatureEvidenceProvider{ID: p.ID, Name: p.Noop.Name}
	default:
		d := p.Drawable
		return &model.DrawableSignatureEvidenceProvider{ID: p.ID, RequireName: d.RequireName,
			MinimumWidth: d.MinimumWidth, MinimumHeight: d.MinimumHeight}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// signatoryLink answers Signatory.href and Signatory.token: empty unless the caller is an
// application whose key may change things (see signing.Service.SignatoryLink).
func (r *Resolver) signatoryLink(ctx context.Context, obj *model.Signatory) (href, token string) {
	p, err := caller(ctx)
	if err != nil {
		return "", ""
	}
	h, t, ok := r.Service.SignatoryLink(p, obj.ID)
	if !ok {
		return "", ""
	}
	return h, t
}

func (r *Resolver) signatoryOf(o *order.SignatureOrder, id string) *model.Signatory {
	s := o.Signatory(id)
	if s == nil {
		return nil
	}
	return r.signatoryModel(o, s)
}

// GraphQL → domain.

func createDraft(in model.CreateSignatureOrderInput) (order.Draft, error) {
	d := order.Draft{
		Title:                         in.Title,
		MaxSignatories:                in.MaxSignatories,
		ExpiresInDays:                 in.ExpiresInDays,
		ExpiresAt:                     in.ExpiresAt,
		Timezone:                      in.Timezone,
		DisableVerifyEvidenceProvider: deref(in.DisableVerifyEvidenceProvider),
		FixDocumentFormattingErrors:   in.FixDocumentFormattingErrors, // nil stays nil: absent is not false
		SignatureAppearance:           appearance(in.SignatureAppearance),
	}
	if in.EvidenceValidationStages != nil {
		d.EvidenceValidationStages = make([]string, len(in.EvidenceValidationStages))
		for i, s := range in.EvidenceValidationStages {
			d.EvidenceValidationStages[i] = string(s)
		}
	}
	if in.UI != nil {
		d.UI = uiDraft(*in.UI)
	}
	d.Webhook = webhook(in.Webhook)
	for i, p := range in.EvidenceProviders {
		if p == nil {
			continue
		}
		ep, err := providerDraft(fmt.Sprintf("evidenceProviders[%d]", i), *p)
		if err != nil {
			return order.Draft{}, err
		}
		ep.EnabledByDefault = p.EnabledByDefault == nil || *p.EnabledByDefault
		d.EvidenceProviders = append(d.EvidenceProviders, ep)
	}
	for i, doc := range in.Documents {
		dd, err := documentDraft(fmt.Sprintf("documents[%d]", i), doc)
		if err != nil {
			return order.Draft{}, err
		}
		d.Documents = append(d.Documents, dd)
	}
	for i, s := range in.Signatories {
		sd, err := signatoryDraft(fmt.Sprintf("signatories[%d]", i), signatoryFields(*s))
		if err != nil {
			return order.Draft{}, err
		}
		d.Signatories = append(d.Signatories, sd)
	}
	return d, nil
}

func webhook(in *model.CreateSignatureOrderWebhookInput) *order.Webhook {
	if in == nil {
		return nil
	}
	return &order.Webhook{URL: in.URL, ValidateConnectivity: deref(in.ValidateConnectivity), Secret: in.Secret,
		DeletionReceipts: deref(in.DeletionReceipts)}
}

func documentDraft(field string, in *model.DocumentInput) (order.DocumentDraft, error) {
	if in == nil || (in.PDF == nil) == (in.XML == nil) {
		return order.DocumentDraft{}, fault.Invalid(field, "exactly one of pdf and xml must be given")
	}
	if in.XML != nil {
		return order.DocumentDraft{Kind: order.DocumentXML, Title: in.XML.Title}, nil
	}
	p := in.PDF
	d := order.DocumentDraft{Kind: order.DocumentPDF, Title: p.Title, Reference: p.Reference,
		StorageMode: string(p.StorageMode), RemoveBookmarks: deref(p.RemoveBookmarks), Data: p.Blob,
		// Passed on as given (nil when absent): the domain tells absent from false.
		KeepPreviousSignatures: in.KeepPreviousSignatures, RemovePreviousSignatures: in.RemovePreviousSignatures,
		PreserveOriginalStructure: in.PreserveOriginalStructure, FixDocumentFormattingErrors: in.FixDocumentFormattingErrors}
	if p.DisplayDocumentID != nil {
		s := string(*p.DisplayDocumentID)
		d.DisplayDocumentID = &s
	}
	if p.Form != nil {
		d.FormEnabled = &p.Form.Enabled
	}
	if t := p.SealsPageTemplate; t != nil {
		if t.Area == nil {
			return order.DocumentDraft{}, fault.Invalid(field+".pdf.sealsPageTemplate.area", "is required")
		}
		d.SealsPageTemplate = &order.SealsPageTemplateDraft{Data: t.Blob, Area: [4]float64{t.Area.X1, t.Area.Y1, t.Area.X2, t.Area.Y2},
			ExpectedColumns: t.ExpectedColumns, ExpectedRows: t.ExpectedRows}
	}
	return d, nil
}

func uiDraft(in model.CreateSignatureOrderUIInput) *order.UI {
	ui := &order.UI{SignatoryRedirectURI: in.SignatoryRedirectURI, Stylesheet: in.Stylesheet, DisableRejection: deref(in.DisableRejection),
		EnableCancel: deref(in.EnableCancel), RenderPdfAnnotationLayer: deref(in.RenderPDFAnnotationLayer)}
	if in.Language != nil {
		ui.Language = string(*in.Language)
	}
	if in.Logo != nil {
		ui.Logo = &order.Logo{Src: in.Logo.Src, Href: in.Logo.Href}
	}
	return ui
}

func appearance(in *model.SignatureAppearanceInput) *order.SignatureAppearance {
	if in == nil {
		return nil
	}
	templates := func(ts []*model.SignatureAppearanceTemplateInput) []order.SignatureAppearanceTemplate {
		var out []order.SignatureAppearanceTemplate
		for _, t := range ts {
			ot := order.SignatureAppearanceTemplate{Template: t.Template}
			for _, r := range t.Replacements {
				ot.Replacements = append(ot.Replacements, order.SignatureAppearanceReplacement{Placeholder: r.Placeholder, FromEvidence: r.FromEvidence})
			}
			out = append(out, ot)
		}
		return out
	}
	return &order.SignatureAppearance{IdentifierFromEvidence: in.IdentifierFromEvidence,
		HeaderLeft: templates(in.HeaderLeft), DisplayName: templates(in.DisplayName), Footer: templates(in.Footer)}
}

func providerDraft(field string, in model.EvidenceProviderInput) (order.EvidenceProvider, error) {
	oidc, verify, noop, drawable, allOf := in.Oidc, in.CriiptoVerify, in.Noop, in.Drawable, in.AllOf
	var p order.EvidenceProvider
	if oidc != nil {
		p.OIDC = &order.OIDCProvider{Name: oidc.Name, Domain: oidc.Domain, ClientID: oidc.ClientID, Audience: oidc.Audience,
			AcrValues: oidc.AcrValues, AlwaysRedirect: deref(oidc.AlwaysRedirect), UniqueEvidenceKey: oidc.UniqueEvidenceKey}
	}
	if verify != nil {
		// The domain and client come from the server's Verify configuration (order.Env.Verify).
		p.CriiptoVerify = &order.CriiptoVerifyProvider{Audiences: verify.Audiences, AcrValues: verify.AcrValues,
			AlwaysRedirect: deref(verify.AlwaysRedirect), UniqueEvidenceKey: verify.UniqueEvidenceKey,
			Message: verify.Message, LoginHint: verify.LoginHint, Scope: verify.Scope}
		if verify.Version != nil {
			p.CriiptoVerify.Version = string(*verify.Version)
		}
	}
	if noop != nil {
		p.Noop = &order.NoopProvider{Name: noop.Name}
	}
	if drawable != nil {
		p.Drawable = &order.DrawableProvider{RequireName: deref(drawable.RequireName),
			MinimumWidth: drawable.MinimumWidth, MinimumHeight: drawable.MinimumHeight}
	}
	if allOf != nil {
		p.AllOf = []order.EvidenceProvider{}
		for j, sub := range allOf.Providers {
			sp, err := providerDraft(fmt.Sprintf("%s.allOf.providers[%d]", field, j),
				model.EvidenceProviderInput{Oidc: sub.Oidc, CriiptoVerify: sub.CriiptoVerify, Noop: sub.Noop, Drawable: sub.Drawable})
			if err != nil {
				return p, err
			}
			p.AllOf = append(p.AllOf, sp)
		}
	}
	return p, nil
}

// signatoryInput is the field set the three signatory inputs share.
type signatoryInput struct {
	CooldownExpiresAt   *string
	SignatoryRole       *model.SignatoryRole
	Reference, Role     *string
	SigningAs           *string
	Documents           []*model.SignatoryDocumentInput
	EvidenceProviders   []*model.SignatoryEvidenceProviderInput
	EvidenceValidation  []*model.SignatoryEvidenceValidationInput
	SignatureAppearance *model.SignatureAppearanceInput
	UI                  *model.SignatoryUIInput
	SigningSequence     *int
}

func signatoryFields(in model.CreateSignatureOrderSignatoryInput) signatoryInput {
	return signatoryInput(in)
}

func addSignatoryFields(in model.AddSignatoryInput) signatoryInput {
	return signatoryInput{in.CooldownExpiresAt, in.SignatoryRole, in.Reference, in.Role, in.SigningAs, in.Documents,
		in.EvidenceProviders, in.EvidenceValidation, in.SignatureAppearance, in.UI, in.SigningSequence}
}

func changeSignatoryFields(in model.ChangeSignatoryInput) signatoryInput {
	return signatoryInput{in.CooldownExpiresAt, nil, in.Reference, in.Role, in.SigningAs, in.Documents,
		in.EvidenceProviders, in.EvidenceValidation, in.SignatureAppearance, in.UI, in.SigningSequence}
}

func signatoryDraft(field string, in signatoryInput) (order.SignatoryDraft, error) {
	d := order.SignatoryDraft{Reference: in.Reference, Role: in.Role, SigningAs: in.SigningAs,
		SigningSequence: in.SigningSequence, SignatureAppearance: appearance(in.SignatureAppearance)}
	if in.CooldownExpiresAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *in.CooldownExpiresAt)
		if err != nil {
			return d, fault.Invalid(field+".cooldownExpiresAt", "must be ISO-8601 with a zone, e.g. 2025-01-31T12:00:00Z")
		}
		t = t.UTC().Truncate(time.Microsecond)
		d.CooldownExpiresAt = &t
	}
	if in.SignatoryRole != nil {
		role := order.Role(*in.SignatoryRole)
		d.SignatoryRole = &role
	}
	if in.Documents != nil {
		d.Documents = []order.SignatoryDocument{}
		for _, doc := range in.Documents {
			sd := order.SignatoryDocument{ID: doc.ID, Preapproved: deref(doc.Preapproved)}
			if doc.PDFSealPosition != nil {
				sd.SealPositions = append(sd.SealPositions, sealPosition(*doc.PDFSealPosition))
			}
			for _, p := range doc.PDFSealPositions {
				sd.SealPositions = append(sd.SealPositions, sealPosition(*p))
			}
			if doc.SignatoryRole != nil {
				role := order.Role(*doc.SignatoryRole)
				sd.Role = &role
			}
			for _, f := range doc.Fields {
				sd.Fields = append(sd.Fields, signatoryField(f))
			}
			d.Documents = append(d.Documents, sd)
		}
	}
	if in.EvidenceProviders != nil {
		d.EvidenceProviders = []string{}
		for j, p := range in.EvidenceProviders {
			f := fmt.Sprintf("%s.evidenceProviders[%d]", field, j)
			if p.Oidc != nil || p.Noop != nil || p.Drawable != nil || p.AllOf != nil {
				return d, fault.Invalid(f, "give the id of one of the order's evidence providers, with criiptoVerify settings for this signatory at most")
			}
			d.EvidenceProviders = append(d.EvidenceProviders, p.ID)
			if c := p.CriiptoVerify; c != nil {
				// Who logs in and how they are asked may be the signatory's; which broker, client
				// and evidence key stay the order's.
				switch {
				case c.AlwaysRedirect != nil, c.UniqueEvidenceKey != nil, c.Audiences != nil, c.Version != nil:
					return d, fault.Invalid(f+".criiptoVerify", "only acrValues, loginHint, message and scope can be set per signatory")
				}
				d.ProviderSettings = append(d.ProviderSettings, order.ProviderSettings{ID: p.ID,
					CriiptoVerify: &order.CriiptoVerifySettings{AcrValues: c.AcrValues, LoginHint: c.LoginHint, Message: c.Message, Scope: c.Scope}})
			} else {
				d.ProviderSettings = append(d.ProviderSettings, order.ProviderSettings{ID: p.ID})
			}
		}
	}
	if in.EvidenceValidation != nil {
		d.EvidenceValidation = []order.EvidenceValidation{}
		for _, v := range in.EvidenceValidation {
			d.EvidenceValidation = append(d.EvidenceValidation, order.EvidenceValidation{Key: v.Key, Value: v.Value, Boolean: v.Boolean})
		}
	}
	if in.UI != nil {
		d.UI = uiDraft(model.CreateSignatureOrderUIInput(*in.UI)) // the signatory's UI input has the same fields
	}
	return d, nil
}

// signatoryField translates the fields extension; an absent size is 0, the domain's "default".
func signatoryField(in *model.SignatoryDocumentFieldInput) order.SignatoryField {
	f := order.SignatoryField{Kind: order.FieldKind(strings.ToLower(string(in.Type))), Required: in.Required,
		Label: deref(in.Label), Options: in.Options}
	if p := in.Position; p != nil {
		f.Placement.Percent = &order.PercentPlacement{Page: p.Page, X: p.X, Y: p.Y, Width: deref(p.Width), Height: deref(p.Height)}
	}
	if a := in.Anchor; a != nil {
		f.Placement.Anchor = &order.AnchorPlacement{Text: a.Text, OffsetX: deref(a.OffsetX), OffsetY: deref(a.OffsetY),
			Width: deref(a.Width), Height: deref(a.Height), IgnoreIfMissing: deref(a.IgnoreIfNotPresent)}
	}
	return f
}

func sealPosition(p model.PDFSealPosition) order.SealPosition {
	return order.SealPosition{Page: p.Page, X: p.X, Y: p.Y, Scale: p.Scale}
}

func bytesModel(b signing.DocumentBytes, original bool) model.Blob {
	if original {
		return b.Original
	}
	return b.Current
}

// documentBlob answers blob/originalBlob; null once the document is deleted.
func (r *Resolver) documentBlob(ctx context.Context, ref model.DocumentRef, original bool) (model.Blob, error) {
	b, err := r.documentBytes(ctx, ref)
	if err != nil {
		return nil, err
	}
	return bytesModel(b, original), nil
}

// documentBytes are the bytes already read in this request (closeSignatureOrder's answer), else
// decrypted on demand.
func (r *Resolver) documentBytes(ctx context.Context, ref model.DocumentRef) (signing.DocumentBytes, error) {
	b, err := r.readDocumentBytes(ctx, ref)
	if err == nil && (b.Current != nil || b.Original != nil) {
		answerHoldsDocuments(ctx, ref.OrderID)
	}
	return b, err
}

func (r *Resolver) readDocumentBytes(ctx context.Context, ref model.DocumentRef) (signing.DocumentBytes, error) {
	if ref.Download != nil {
		// Not remembered with the others: the same document may also be under documents, where
		// the signatory's own rules (not the download's) apply.
		st := state(ctx)
		if st == nil || st.Signatory == nil {
			return signing.DocumentBytes{}, fault.Unauthorized()
		}
		return r.Service.SignatoryDownloadDocument(ctx, *st.Signatory, downloadVerification(ref.Download), ref.DocumentID)
	}
	if b, ok := rememberedBytes(ctx, ref.DocumentID); ok {
		return b, nil
	}
	var b signing.DocumentBytes
	var err error
	if st := state(ctx); st != nil && st.App == nil && st.Signatory != nil {
		b, err = r.Service.SignatoryDocumentBytes(ctx, *st.Signatory, ref.DocumentID)
	} else {
		var p signing.Principal
		if p, err = caller(ctx); err != nil {
			return signing.DocumentBytes{}, err
		}
		b, err = r.Service.DocumentBytes(ctx, p, ref.OrderID, ref.DocumentID)
	}
	if err != nil {
		return signing.DocumentBytes{}, err
	}
	rememberBytes(ctx, map[string]signing.DocumentBytes{ref.DocumentID: b})
	return b, nil
}

// signatoryViewer is what a signatory's own token shows: their documents (with their statuses), their
// evidence providers and UI. Before a required VIEW-stage login only the unvalidated viewer shows.
func (r *Resolver) signatoryViewer(o *order.SignatureOrder, s *order.Signatory, validated bool) model.Viewer {
	return viewerModel(r.Service.ViewOf(o, s, validated))
}

// viewerModel translates the signatory's view.
func viewerModel(view order.SignatoryView) model.Viewer {
	o, s := view.Order, view.Signatory
	providers := providersModel(view.Providers)
	if view.LoginNeeded {
		return &model.UnvalidatedSignatoryViewer{ID: s.ID, SignatoryID: s.ID, Authenticated: false,
			EvidenceProviders: providers, UI: uiModel(view.UI)}
	}
	v := &model.SignatoryViewer{
		ID: s.ID, SignatoryID: s.ID, Authenticated: true, CooldownExpiresAt: s.CooldownExpiresAt,
		Role: model.SignatoryRole(s.SignatoryRole), Signer: s.SignatoryRole == order.RoleSigner,
		Status: model.SignatoryStatus(s.Status), SignatureOrderStatus: model.SignatureOrderStatus(o.Status),
		TraceID: o.TraceID, UI: uiModel(view.UI), EvidenceProviders: providers,
		Documents: &model.SignatoryDocumentConnection{Edges: []*model.SignatoryDocumentEdge{}},
	}
	for _, vd := range view.Documents {
		v.Documents.Edges = append(v.Documents.Edges, viewerEdge(o, vd))
	}
	return v
}

// signatoryEdge is one of a signatory's documents with their status, also on the node.
func signatoryEdge(o *order.SignatureOrder, s *order.Signatory, d *order.Document) *model.SignatoryDocumentEdge {
	return viewerEdge(o, order.ViewDocument{Document: d, Status: s.SignatoryDocumentStatus(d.ID)})
}

func viewerEdge(o *order.SignatureOrder, vd order.ViewDocument) *model.SignatoryDocumentEdge {
	node := documentModel(o, vd.Document).(*model.PDFDocument)
	status := documentStatusModel(vd.Status)
	node.SignatoryViewerStatus = status
	return &model.SignatoryDocumentEdge{Node: node, Status: status}
}

// viewerOfSignatory loads the signatory's current view.
func (r *Resolver) viewerOfSignatory(ctx context.Context, sp signing.SignatoryPrincipal) (model.Viewer, error) {
	view, err := r.Service.SignatoryView(ctx, sp)
	if err != nil {
		return nil, err
	}
	return viewerModel(view), nil
}

// signEvidence converts sign's input (also signActingAs's evidence).
func (r *Resolver) signEvidence(input *model.SignInput) (signing.SignInput, error) {
	if input == nil {
		return signing.SignInput{}, fault.Invalid("evidence", "is required")
	}
	in, err := signInput(input.ID, model.SignAllOfInput{Noop: input.Noop, Drawable: input.Drawable, Oidc: input.Oidc,
		CriiptoVerify: input.CriiptoVerify, CriiptoVerifyV2: input.CriiptoVerifyV2})
	if err != nil {
		return signing.SignInput{}, err
	}
	for _, d := range input.Documents {
		form := signing.DocumentForm{DocumentID: d.ID}
		if d.Form != nil {
			for _, f := range d.Form.Fields {
				form.Fields = append(form.Fields, signing.FormValue{Field: f.Field, Value: f.Value})
			}
		}
		in.Documents = append(in.Documents, form)
	}
	if a := input.AllOf; a != nil {
		all, err := signInput("", *a)
		if err != nil {
			return signing.SignInput{}, err
		}
		in.AllOf = &all
	}
	return in, nil
}

// signInput is the evidence of sign (or of its allOf member).
func signInput(providerID string, ev model.SignAllOfInput) (signing.SignInput, error) {
	noop, drawable, oidc, verify, verifyV2 := ev.Noop, ev.Drawable, ev.Oidc, ev.CriiptoVerify, ev.CriiptoVerifyV2
	in := signing.SignInput{ProviderID: providerID, Noop: deref(noop)}
	if verify != nil {
		in.VerifyJWT = &verify.Jwt
	}
	if verifyV2 != nil {
		in.VerifyCode = &signing.LoginCode{Code: verifyV2.Code, State: verifyV2.State}
	}
	if oidc != nil {
		in.OIDCJWT = &oidc.Jwt
	}
	if drawable != nil {
		in.Drawable = &signing.DrawableInput{Image: drawable.Image, Name: drawable.Name}
	}
	return in, nil
}

// formFields answers PdfDocumentForm.fields: the fields of the document's own form with their
// values in its current bytes; empty once the document is deleted.
func (r *Resolver) formFields(ctx context.Context, ref model.DocumentRef) ([]*model.PDFDocumentFormField, error) {
	b, err := r.documentBytes(ctx, ref)
	if err != nil {
		return nil, err
	}
	fields, err := r.Service.FormFields(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("document %s: %w", ref.DocumentID, err)
	}
	out := make([]*model.PDFDocumentFormField, len(fields))
	for i, f := range fields {
		out[i] = &model.PDFDocumentFormField{Field: f.Name, Value: f.Value}
	}
	return out, nil
}

// documentSignatures answers PdfDocument.signatures: the signatures read back from the document's
// current bytes, each with its evidence and, for applications, its signatory. A signatory sees the
// signatures on its own documents without the other signatories (their links and tokens are not
// theirs to see).
func (r *Resolver) documentSignatures(ctx context.Context, ref model.DocumentRef) ([]model.Signature, error) {
	b, err := r.documentBytes(ctx, ref)
	if err != nil || b.Current == nil {
		return nil, err
	}
	views, err := r.Service.Signatures(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("document %s: %w", ref.DocumentID, err)
	}
	var o *order.SignatureOrder
	if st := state(ctx); st == nil || st.App != nil || st.Signatory == nil {
		p, err := caller(ctx)
		if err != nil {
			return nil, err
		}
		if o, err = r.Service.Order(ctx, p, ref.OrderID); err != nil || o == nil {
			return nil, err
		}
	}
	out := make([]model.Signature, 0, len(views))
	for _, v := range views {
		var who *model.Signatory
		if o != nil {
			who = r.signatoryOf(o, v.SignatoryID)
		}
		sig, err := signatureModel(v, who)
		if err != nil {
			return nil, fmt.Errorf("document %s: %w", ref.DocumentID, err)
		}
		out = append(out, sig)
	}
	return out, nil
}

func certificateModel(c *x509.Certificate) *model.Certificate {
	if c == nil {
		return nil
	}
	return &model.Certificate{Issuer: c.Issuer.String(), Subject: c.Subject.String(), Raw: c.Raw}
}

// signatureModel picks the Signature type from the evidence in /ContactInfo (evidence owns its
// format: a signature whose evidence it cannot read is an error, not an EmptySignature).
func signatureModel(v signing.SignatureView, signatory *model.Signatory) (model.Signature, error) {
	cert := certificateModel(v.SigningCertificate)
	var ts *model.TimestampToken
	if v.TimestampCertificate != nil {
		ts = &model.TimestampToken{Timestamp: v.Timestamp, Certificate: certificateModel(v.TimestampCertificate)}
	}
	ev, err := evidence.ParseContactInfo(v.ContactInfo)
	if err != nil {
		return nil, err
	}
	if ev.Type != evidence.TypeComposite {
		return singleSignature(ev, cert, signatory, ts), nil
	}
	composite := &model.CompositeSignature{SigningCertificate: cert, Signatory: signatory, TimestampToken: ts, Signatures: []model.SingleSignature{}}
	for _, part := range ev.Parts {
		if s, ok := singleSignature(part, cert, signatory, ts).(model.SingleSignature); ok {
			composite.Signatures = append(composite.Signatures, s)
		}
	}
	return composite, nil
}

func singleSignature(ev evidence.Signature, cert *model.Certificate, signatory *model.Signatory, ts *model.TimestampToken) model.Signature {
	switch ev.Type {
	case evidence.TypeDrawable:
		return &model.DrawableSignature{SigningCertificate: cert, Signatory: signatory, TimestampToken: ts, Image: ev.Image, Name: ev.Name}
	case evidence.TypeJWT:
		return &model.JWTSignature{SigningCertificate: cert, Signatory: signatory, TimestampToken: ts, Jwt: ev.JWT, Jwks: ev.JWKS, Claims: jwtClaims(ev.JWT)}
	default:
		return &model.EmptySignature{SigningCertificate: cert, Signatory: signatory, TimestampToken: ts}
	}
}

// jwtClaims lists a JWT's payload claims as name/value strings (the JWT was verified when signing).
func jwtClaims(jwt string) []*model.JWTClaim {
	out := []*model.JWTClaim{}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return out
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return out
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return out
	}
	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		value := fmt.Sprint(claims[k])
		if s, ok := claims[k].(string); ok {
			value = s
		} else if b, err := json.Marshal(claims[k]); err == nil {
			value = string(b)
		}
		out = append(out, &model.JWTClaim{Name: k, Value: value})
	}
	return out
}

func stringOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// webhookLogs answers Application.webhookLogs and SignatureOrder.webhook.logs.
func (r *Resolver) webhookLogs(ctx context.Context, orderID, from, to string, succeeded *bool) ([]model.WebhookInvocation, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	invs, err := r.Service.WebhookLogs(ctx, p, signing.WebhookLogQuery{OrderID: orderID, From: from, To: to, Succeeded: succeeded})
	if err != nil {
		return nil, err
	}
	out := make([]model.WebhookInvocation, len(invs))
	for i, inv := range invs {
		out[i] = invocationModel(inv)
	}
	return out, nil
}

// invocationModel picks the invocation type by outcome; retryPayload is the delivery id, which
// retrySignatureOrderWebhook takes back.
func invocationModel(inv order.WebhookInvocation) model.WebhookInvocation {
	event := model.WebhookInvocationEvent(inv.Event)
	at := inv.At.Format(time.RFC3339Nano)
	var retrying *string
	if inv.RetryingAt != nil {
		r := inv.RetryingAt.Format(time.RFC3339Nano)
		retrying = &r
	}
	orderID := &inv.OrderID
	switch inv.Outcome {
	case order.InvocationSuccess:
		return &model.WebhookSuccessfulInvocation{CorrelationID: inv.ID, Event: &event, RequestBody: inv.RequestBody,
			ResponseBody: inv.ResponseBody, ResponseStatusCode: deref(inv.StatusCode), SignatureOrderID: orderID, Timestamp: at, URL: inv.URL}
	case order.InvocationHTTPError:
		return &model.WebhookHTTPErrorInvocation{CorrelationID: inv.ID, Event: &event, RequestBody: inv.RequestBody,
			ResponseBody: inv.ResponseBody, ResponseStatusCode: deref(inv.StatusCode), RetryPayload: inv.DeliveryID, RetryingAt: retrying,
			SignatureOrderID: orderID, Timestamp: at, URL: inv.URL}
	case order.InvocationTimeout:
		return &model.WebhookTimeoutInvocation{CorrelationID: inv.ID, Event: &event, RequestBody: inv.RequestBody,
			ResponseBody: inv.ResponseBody, ResponseTimeout: deref(inv.TimeoutMillis), RetryPayload: inv.DeliveryID, RetryingAt: retrying,
			SignatureOrderID: orderID, Timestamp: at, URL: inv.URL}
	default:
		return &model.WebhookExceptionInvocation{CorrelationID: inv.ID, Event: &event, Exception: deref(inv.Exception), RequestBody: inv.RequestBody,
			ResponseBody: inv.ResponseBody, RetryPayload: inv.DeliveryID, RetryingAt: retrying, SignatureOrderID: orderID, Timestamp: at, URL: inv.URL}
	}
}

// deref is *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// signatoryDownload answers SignatoryViewer.download and UnvalidatedSignatoryViewer.download for
// the signatory whose token the request carries: null while no download can exist yet.
func (r *Resolver) signatoryDownload(ctx context.Context, in *model.DownloadVerificationInput) (*model.SignatoryViewerDownload, error) {
	st := state(ctx)
	if st == nil || st.Signatory == nil {
		return nil, fault.Unauthorized()
	}
	sp := *st.Signatory
	var ref *model.DownloadVerification
	if in != nil {
		switch {
		case in.Oidc != nil && in.CriiptoVerify != nil:
			return nil, fault.Invalid("verification", "give one of oidc and criiptoVerify")
		case in.Oidc != nil:
			ref = &model.DownloadVerification{OIDCJWT: &in.Oidc.Jwt}
		case in.CriiptoVerify != nil:
			ref = &model.DownloadVerification{CriiptoVerifyJWT: &in.CriiptoVerify.Jwt}
		}
	}
	d, err := r.Service.SignatoryDownload(ctx, sp, downloadVerification(ref))
	if err != nil || !d.Exists {
		return nil, err
	}
	m := &model.SignatoryViewerDownload{Expired: d.Expired, VerificationRequired: d.VerificationRequired}
	if p := d.VerificationProvider; p != nil {
		m.VerificationEvidenceProvider = providerModel(*p)
	}
	if d.Documents != nil {
		view, err := r.Service.SignatoryView(ctx, sp)
		if err != nil {
			return nil, err
		}
		m.Documents = &model.SignatoryDocumentConnection{Edges: []*model.SignatoryDocumentEdge{}}
		for i := range d.Documents {
			node := documentModel(view.Order, &d.Documents[i]).(*model.PDFDocument)
			node.Ref.Download = ref
			if ref == nil {
				node.Ref.Download = &model.DownloadVerification{}
			}
			m.Documents.Edges = append(m.Documents.Edges, &model.SignatoryDocumentEdge{Node: node})
		}
	}
	return m, nil
}

// downloadVerification is the service's form of the login a download was asked with.
func downloadVerification(v *model.DownloadVerification) *signing.DownloadVerification {
	switch {
	case v == nil:
		return nil
	case v.OIDCJWT != nil:
		return &signing.DownloadVerification{ProviderKind: order.ProviderOIDC, JWT: *v.OIDCJWT}
	case v.CriiptoVerifyJWT != nil:
		return &signing.DownloadVerification{ProviderKind: order.ProviderCriiptoVerify, JWT: *v.CriiptoVerifyJWT}
	}
	return nil
}

// auditTrail answers SignatureOrder.auditTrail: a page of the order's trail (after: the last seq
// seen; first: 1 to signing.MaxAuditPage, default all of a page).
func (r *Resolver) auditTrail(ctx context.Context, orderID string, after, first *int) ([]*model.SignatureOrderAuditEntry, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	limit := signing.MaxAuditPage
	if first != nil {
		limit = *first
	}
	page, err := r.Service.AuditTrailPage(ctx, p, orderID, int64(deref(after)), limit)
	if err != nil {
		return nil, err
	}
	out := make([]*model.SignatureOrderAuditEntry, 0, len(page))
	for _, rec := range page {
		e := rec.Entry
		m := &model.SignatureOrderAuditEntry{Seq: int(rec.Seq), At: e.At, Kind: string(e.Kind),
			Details: []*model.SignatureOrderAuditDetail{}}
		if e.SignatoryID != "" {
			m.SignatoryID = &e.SignatoryID
		}
		if e.DocumentID != "" {
			m.DocumentID = &e.DocumentID
		}
		if e.Actor != nil {
			m.IP, m.UserAgent = &e.Actor.IP, &e.Actor.UserAgent
		}
		for _, k := range slices.Sorted(maps.Keys(e.Details)) {
			m.Details = append(m.Details, &model.SignatureOrderAuditDetail{Key: k, Value: e.Details[k]})
		}
		out = append(out, m)
	}
	return out, nil
}

// deletionReceipt answers SignatureOrder.deletionReceipt: null until the documents are deleted.
func (r *Resolver) deletionReceipt(ctx context.Context, orderID string) (*model.SignatureOrderDeletionReceipt, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	sr, err := r.Service.DeletionReceipt(ctx, p, orderID)
	if err != nil || sr == nil {
		return nil, err
	}
	m := &model.SignatureOrderDeletionReceipt{ID: sr.Receipt.ID, Reason: sr.Receipt.Reason, DeletedAt: sr.Receipt.DeletedAt,
		Jws: sr.JWS, HashKey: base64.StdEncoding.EncodeToString(sr.HashKey), Documents: []*model.SignatureOrderDeletionReceiptDocument{}}
	for _, d := range sr.Receipt.Documents {
		md := &model.SignatureOrderDeletionReceiptDocument{DocumentID: d.DocumentID, Versions: []*model.SignatureOrderDeletionReceiptVersion{}}
		for _, v := range d.Versions {
			md.Versions = append(md.Versions, &model.SignatureOrderDeletionReceiptVersion{Version: v.Number, KeyedHash: v.KeyedHash})
		}
		m.Documents = append(m.Documents, md)
	}
	return m, nil
}

// completionCertificate answers SignatureOrder.completionCertificate: null when there is none.
func (r *Resolver) completionCertificate(ctx context.Context, orderID string) (model.Blob, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	pdf, err := r.Service.CompletionCertificate(ctx, p, orderID)
	if err != nil || pdf == nil {
		return nil, err
	}
	// Like a document's bytes: a kept Idempotency-Key answer holding it goes when the documents go.
	answerHoldsDocuments(ctx, orderID)
	return model.Blob(pdf), nil
}
