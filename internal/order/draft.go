package order

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // timezone names must resolve on any machine, not only where tzdata is installed

	"esign/internal/fault"
	"esign/internal/i18n"
)

// Draft is a new order as the caller asked for it, before defaults, ids and validation.
type Draft struct {
	Title                         *string
	MaxSignatories                *int
	ExpiresInDays                 *int
	ExpiresAt                     *string
	Timezone                      *string
	DisableVerifyEvidenceProvider bool
	FixDocumentFormattingErrors   *bool // nil: not given (a defect is repaired); false refuses a repair
	EvidenceValidationStages      []string
	SignatureAppearance           *SignatureAppearance
	UI                            *UI
	Webhook                       *Webhook
	EvidenceProviders             []EvidenceProvider
	Documents                     []DocumentDraft
	Signatories                   []SignatoryDraft
}

// DocumentDraft is a document as uploaded: metadata plus its (already decoded) bytes.
type DocumentDraft struct {
	Kind              DocumentKind
	Title             string
	Reference         *string
	StorageMode       string
	DisplayDocumentID *string
	FormEnabled       *bool
	RemoveBookmarks   bool
	Data              []byte
	// What the uploader asked about the document's structure (DocumentInput); nil is not given.
	// Their rules are in intake.go: static conflicts are refused by Build, the rest by PlanIntake
	// once the PDF intake has said what the document holds.
	KeepPreviousSignatures      *bool
	RemovePreviousSignatures    *bool
	PreserveOriginalStructure   *bool
	FixDocumentFormattingErrors *bool // overrides the order's fixDocumentFormattingErrors
	// SealsPageTemplate is the integrator's own seals page (PadesDocumentSealsPageTemplateInput);
	// nil: the generated one.
	SealsPageTemplate *SealsPageTemplateDraft
}

// SealsPageTemplateDraft is an integrator's seals page as uploaded: a one-page PDF and the area
// (x1, y1, x2, y2 in points from the page's lower left corner) where expectedColumns ×
// expectedRows seals go. Build checks what needs no PDF (SealsPageGrid); the service checks the
// page itself (one page, the area inside it, slots large enough for a seal's text).
type SealsPageTemplateDraft struct {
	Data                          []byte
	Area                          [4]float64
	ExpectedColumns, ExpectedRows *int
}

// Bounds on a seals page template's grid: beyond them a seal is too small to read on any page a
// template could be.
const (
	MaxSealsPageColumns = 6
	MaxSealsPageRows    = 20
	// defaultSealsPageColumns is the generated seals page's layout, used when only rows are given
	// or neither.
	defaultSealsPageColumns = 2
)

// DocumentIDLocations are the edges where displayDocumentID may put the document ID.
var DocumentIDLocations = []string{"LEFT", "RIGHT", "TOP", "BOTTOM"}

// SealsPageGrid is the template's grid for an order of maxSignatories: the expected columns and
// rows as given, a missing one derived so that every signatory has a slot (columns default to 2,
// as on the generated page). field is the template's input path. There must be a slot for each of
// maxSignatories: a seal without one could not be placed when its signatory signs.
func (t *SealsPageTemplateDraft) SealsPageGrid(field string, maxSignatories int) (columns, rows int, err error) {
	maxSignatories = max(maxSignatories, 1)
	for _, v := range []struct {
		name  string
		value *int
		max   int
	}{{"expectedColumns", t.ExpectedColumns, MaxSealsPageColumns}, {"expectedRows", t.ExpectedRows, MaxSealsPageRows}} {
		if v.value != nil && (*v.value < 1 || *v.value > v.max) {
			return 0, 0, fault.Invalid(field+"."+v.name, "must be between 1 and %d, not %d", v.max, *v.value)
		}
	}
	columns, rows = defaultSealsPageColumns, 0
	switch {
	case t.ExpectedColumns != nil && t.ExpectedRows != nil:
		columns, rows = *t.ExpectedColumns, *t.ExpectedRows
	case t.ExpectedColumns != nil:
		columns = *t.ExpectedColumns
		rows = (maxSignatories + columns - 1) / columns
	case t.ExpectedRows != nil:
		rows = *t.ExpectedRows
		columns = (maxSignatories + rows - 1) / rows
	default:
		rows = (maxSignatories + columns - 1) / columns
	}
	if columns > MaxSealsPageColumns || rows > MaxSealsPageRows || columns*rows < maxSignatories {
		return 0, 0, fault.Invalid(field, "%d × %d slots (expectedColumns × expectedRows) must hold maxSignatories (%d) seals, with at most %d columns and %d rows",
			columns, rows, maxSignatories, MaxSealsPageColumns, MaxSealsPageRows)
	}
	return columns, rows, nil
}

// checkSealsPageTemplates applies SealsPageGrid and the size rules to every document's template.
func checkSealsPageTemplates(docs []DocumentDraft, maxSignatories int, env Env) error {
	for i, d := range docs {
		t := d.SealsPageTemplate
		if t == nil {
			continue
		}
		field := fmt.Sprintf("documents[%d].pdf.sealsPageTemplate", i)
		if len(t.Data) == 0 {
			return fault.Invalid(field+".blob", "must be a PDF of one page")
		}
		if env.MaxDocumentSize > 0 && len(t.Data) > env.MaxDocumentSize {
			return fault.Invalid(field+".blob", "is %d bytes, more than the limit of %d bytes (%s)", len(t.Data), env.MaxDocumentSize, humanBytes(env.MaxDocumentSize))
		}
		for j, name := range []string{"x1", "y1", "x2", "y2"} {
			if math.IsNaN(t.Area[j]) || math.IsInf(t.Area[j], 0) {
				return fault.Invalid(field+".area."+name, "must be a finite number of points")
			}
		}
		if t.Area[2] <= t.Area[0] || t.Area[3] <= t.Area[1] || t.Area[0] < 0 || t.Area[1] < 0 {
			return fault.Invalid(field+".area", "must have 0 ≤ x1 < x2 and 0 ≤ y1 < y2 (points from the page's lower left corner)")
		}
		if _, _, err := t.SealsPageGrid(field, maxSignatories); err != nil {
			return err
		}
	}
	return nil
}

// SignatoryDraft is a signatory as the caller asked for it.
type SignatoryDraft struct {
	Reference         *string
	Role              *string
	SigningAs         *string
	SignatoryRole     *Role
	SigningSequence   *int
	CooldownExpiresAt *time.Time
	// Documents nil means all documents. At creation, ids may name a document by its reference,
	// since the caller cannot know the ids the service will give.
	Documents         []SignatoryDocument
	EvidenceProviders []string
	// ProviderSettings are per-signatory settings of providers EvidenceProviders names (set only
	// with it).
	ProviderSettings    []ProviderSettings
	EvidenceValidation  []EvidenceValidation
	SignatureAppearance *SignatureAppearance
	UI                  *UI
}

// Env is what building an order needs from outside: the clock, id generation and the caller's kind.
type Env struct {
	Now             time.Time
	NewID           func() string
	TestApplication bool // TEST applications may use the noop evidence provider
	MaxDocumentSize int
	// Verify is the service's OpenID Connect eID broker that criiptoVerify providers log in with; nil
	// when none is configured.
	Verify *VerifyClient
}

// VerifyClient is the provider and client that criiptoVerify evidence providers use.
type VerifyClient struct {
	Domain   string
	ClientID string
}

// Build validates a draft and returns the new order (without document versions: the caller stores the
// bytes and adds them). Errors are *fault.Error with fault.CodeInvalid.
func Build(d Draft, applicationID string, env Env) (*SignatureOrder, error) {
	o := &SignatureOrder{
		ID:                            env.NewID(),
		ApplicationID:                 applicationID,
		Title:                         d.Title,
		Status:                        StatusOpen,
		CreatedAt:                     env.Now,
		MaxSignatories:                DefaultMaxSignatories,
		Timezone:                      DefaultTimezone,
		TraceID:                       env.NewID(),
		DisableVerifyEvidenceProvider: d.DisableVerifyEvidenceProvider,
		FixDocumentFormattingErrors:   d.FixDocumentFormattingErrors != nil && *d.FixDocumentFormattingErrors,
		SignatureAppearance:           d.SignatureAppearance,
		Webhook:                       d.Webhook,
	}
	if err := checkDraftBounds(d); err != nil {
		return nil, err
	}
	if d.MaxSignatories != nil {
		if err := checkMaxSignatories(*d.MaxSignatories); err != nil {
			return nil, err
		}
		o.MaxSignatories = *d.MaxSignatories
	}
	expiresAt, err := expiry(d, env.Now)
	if err != nil {
		return nil, err
	}
	o.ExpiresAt = expiresAt
	if d.Timezone != nil {
		if _, err := time.LoadLocation(*d.Timezone); err != nil || *d.Timezone == "" || *d.Timezone == "Local" {
			return nil, fault.Invalid("timezone", "%q is not an IANA timezone name (see the timezones query)", *d.Timezone)
		}
		o.Timezone = *d.Timezone
	}
	if o.UI, err = checkUI("ui", d.UI); err != nil {
		return nil, err
	}
	if d.Webhook != nil {
		if err := checkWebhook(d.Webhook); err != nil {
			return nil, err
		}
	}
	if o.EvidenceValidationStages, err = checkStages(d.EvidenceValidationStages); err != nil {
		return nil, err
	}
	if err := checkAppearance("signatureAppearance", d.SignatureAppearance); err != nil {
		return nil, err
	}
	if o.EvidenceProviders, err = buildProviders(d.EvidenceProviders, env); err != nil {
		return nil, err
	}
	if o.Documents, err = buildDocuments(d.Documents, env); err != nil {
		return nil, err
	}
	if err := checkSealsPageTemplates(d.Documents, o.MaxSignatories, env); err != nil {
		return nil, err
	}
	o.record(env.Now, AuditOrderCreated, "", "", "documents", fmt.Sprint(len(o.Documents)),
		"signatories", fmt.Sprint(len(d.Signatories)), "expiresAt", o.ExpiresAt.UTC().Format(time.RFC3339))
	if _, err := o.AddSignatories("signatories", d.Signatories, env, true); err != nil {
		return nil, err
	}
	if err := o.checkSize(); err != nil {
		return nil, err
	}
	return o, nil
}

// checkDraftBounds checks the order-level texts and list lengths before anything else looks at them
// (a 10 MiB title must cost no more than its refusal).
func checkDraftBounds(d Draft) error {
	if err := checkOptLine("title", d.Title, MaxTitleLen); err != nil {
		return err
	}
	if err := checkOptLine("timezone", d.Timezone, MaxIdentifierLen); err != nil {
		return err
	}
	if err := checkOptLine("expiresAt", d.ExpiresAt, MaxTimestampLen); err != nil {
		return err
	}
	if err := checkList("documents", len(d.Documents), MaxDocuments); err != nil {
		return err
	}
	if err := checkList("evidenceProviders", len(d.EvidenceProviders), MaxEvidenceProviders); err != nil {
		return err
	}
	// maxSignatories bounds the signatories too, but only once it is known to be valid.
	return checkList("signatories", len(d.Signatories), MaxSignatoriesHardLimit)
}

func checkMaxSignatories(n int) error {
	if n < 1 || n > MaxSignatoriesHardLimit {
		return fault.Invalid("maxSignatories", "must be between 1 and %d", MaxSignatoriesHardLimit)
	}
	return nil
}

func expiry(d Draft, now time.Time) (time.Time, error) {
	switch {
	case d.ExpiresAt != nil && d.ExpiresInDays != nil:
		return time.Time{}, fault.Invalid("expiresAt", "cannot be combined with expiresInDays: give one of them")
	case d.ExpiresAt != nil:
		t, err := time.Parse(time.RFC3339Nano, *d.ExpiresAt)
		if err != nil {
			return time.Time{}, fault.Invalid("expiresAt", "must be ISO-8601 with a zone, e.g. 2025-01-31T12:00:00Z")
		}
		if !t.After(now) {
			return time.Time{}, fault.Invalid("expiresAt", "must be in the future")
		}
		return t.UTC().Truncate(time.Microsecond), nil
	case d.ExpiresInDays != nil:
		days := *d.ExpiresInDays
		if days <= 0 {
			return time.Time{}, fault.Invalid("expiresInDays", "must be a positive number of days")
		}
		if days > 3650 {
			return time.Time{}, fault.Invalid("expiresInDays", "must be at most 3650 days")
		}
		return now.Add(time.Duration(days) * 24 * time.Hour), nil
	default:
		return now.Add(DefaultExpiresInDays * 24 * time.Hour), nil
	}
}

func checkUI(field string, ui *UI) (UI, error) {
	if ui == nil {
		return UI{Language: DefaultLanguage}, nil
	}
	out := *ui
	if out.Language == "" {
		out.Language = DefaultLanguage
	}
	if !i18n.Supported(out.Language) {
		return UI{}, fault.Invalid(field+".language", "must be one of %s", i18n.Codes())
	}
	if out.SignatoryRedirectURI != nil {
		if err := checkURL(field+".signatoryRedirectUri", *out.SignatoryRedirectURI, false); err != nil {
			return UI{}, err
		}
	}
	if out.Logo != nil {
		if err := checkURL(field+".logo.src", out.Logo.Src, true); err != nil {
			return UI{}, err
		}
		if out.Logo.Href != nil {
			if err := checkURL(field+".logo.href", *out.Logo.Href, false); err != nil {
				return UI{}, err
			}
		}
	}
	if out.Stylesheet != nil {
		if err := checkURL(field+".stylesheet", *out.Stylesheet, false); err != nil {
			return UI{}, err
		}
	}
	return out, nil
}

func checkWebhook(w *Webhook) error {
	if err := checkURL("webhook.url", w.URL, false); err != nil {
		return err
	}
	if w.Secret != nil {
		bits := len(w.Secret) * 8
		if bits < MinWebhookSecretBits || bits > MaxWebhookSecretBits {
			return fault.Invalid("webhook.secret", "must be %d to %d bits (base64 of %d to %d bytes), got %d bits",
				MinWebhookSecretBits, MaxWebhookSecretBits, MinWebhookSecretBits/8, MaxWebhookSecretBits/8, bits)
		}
	}
	return nil
}

func checkStages(stages []string) ([]string, error) {
	if stages == nil {
		return []string{EvidenceStageSign}, nil
	}
	if len(stages) == 0 {
		return nil, fault.Invalid("evidenceValidationStages", "must not be empty (omit it for the default SIGN)")
	}
	seen := map[string]bool{}
	for i, s := range stages {
		if s != EvidenceStageSign && s != EvidenceStageView {
			return nil, fault.Invalid(fmt.Sprintf("evidenceValidationStages[%d]", i), "must be VIEW or SIGN")
		}
		if seen[s] {
			return nil, fault.Invalid(fmt.Sprintf("evidenceValidationStages[%d]", i), "%s is listed twice", s)
		}
		seen[s] = true
	}
	return stages, nil
}

func checkAppearance(field string, a *SignatureAppearance) error {
	if a == nil {
		return nil
	}
	if err := checkLines(field+".identifierFromEvidence", a.IdentifierFromEvidence, MaxListItems, MaxIdentifierLen); err != nil {
		return err
	}
	for _, l := range []struct {
		name string
		list []SignatureAppearanceTemplate
	}{{"headerLeft", a.HeaderLeft}, {"displayName", a.DisplayName}, {"footer", a.Footer}} {
		lf := field + "." + l.name
		if err := checkList(lf, len(l.list), MaxListItems); err != nil {
			return err
		}
		for j, t := range l.list {
			if err := checkTemplate(fmt.Sprintf("%s[%d]", lf, j), t); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkTemplate(field string, t SignatureAppearanceTemplate) error {
	if err := checkLine(field+".template", t.Template, MaxTemplateLen); err != nil {
		return err
	}
	if err := checkList(field+".replacements", len(t.Replacements), MaxListItems); err != nil {
		return err
	}
	for k, r := range t.Replacements {
		rf := fmt.Sprintf("%s.replacements[%d]", field, k)
		if err := checkLine(rf+".placeholder", r.Placeholder, MaxIdentifierLen); err != nil {
			return err
		}
		if r.Placeholder == "" {
			return fault.Invalid(rf+".placeholder", "must not be empty")
		}
		if err := checkLines(rf+".fromEvidence", r.FromEvidence, MaxListItems, MaxIdentifierLen); err != nil {
			return err
		}
	}
	return nil
}

func buildProviders(in []EvidenceProvider, env Env) ([]EvidenceProvider, error) {
	if len(in) == 0 {
		// Without an eID broker of our own, the self-hosted default is a drawn signature with a name.
		return []EvidenceProvider{{ID: env.NewID(), Kind: ProviderDrawable, EnabledByDefault: true,
			Drawable: &DrawableProvider{RequireName: true}}}, nil
	}
	out := make([]EvidenceProvider, len(in))
	for i, p := range in {
		field := fmt.Sprintf("evidenceProviders[%d]", i)
		if err := checkProvider(field, &p, env, true); err != nil {
			return nil, err
		}
		p.ID = env.NewID()
		for j := range p.AllOf {
			p.AllOf[j].ID = env.NewID()
			p.AllOf[j].EnabledByDefault = true
		}
		out[i] = p
	}
	return out, nil
}

// checkProvider validates one provider; Kind must already be set from the single input member given.
func checkProvider(field string, p *EvidenceProvider, env Env, allowAllOf bool) error {
	set := 0
	for _, b := range []bool{p.OIDC != nil, p.CriiptoVerify != nil, p.Noop != nil, p.Drawable != nil, p.AllOf != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		kinds := "oidc, criiptoVerify, noop, drawable"
		if allowAllOf {
			kinds += ", allOf"
		}
		return fault.Invalid(field, "exactly one of %s must be given", kinds)
	}
	switch {
	case p.OIDC != nil:
		p.Kind = ProviderOIDC
		o := p.OIDC
		for _, f := range []struct {
			name, v string
			max     int
		}{{"name", o.Name, MaxNameLen}, {"domain", o.Domain, MaxURLLen}, {"clientID", o.ClientID, MaxIdentifierLen}, {"audience", o.Audience, MaxIdentifierLen}} {
			if err := checkLine(field+".oidc."+f.name, f.v, f.max); err != nil {
				return err
			}
			if strings.TrimSpace(f.v) == "" {
				return fault.Invalid(field+".oidc."+f.name, "must not be empty")
			}
		}
		if err := checkIssuerDomain(field+".oidc.domain", o.Domain); err != nil {
			return err
		}
		if err := checkLines(field+".oidc.acrValues", o.AcrValues, MaxListItems, MaxIdentifierLen); err != nil {
			return err
		}
		if err := checkOptLine(field+".oidc.uniqueEvidenceKey", o.UniqueEvidenceKey, MaxIdentifierLen); err != nil {
			return err
		}
	case p.CriiptoVerify != nil:
		p.Kind = ProviderCriiptoVerify
		if err := checkVerifyTexts(field+".criiptoVerify", p.CriiptoVerify); err != nil {
			return err
		}
		if p.CriiptoVerify.Version == "" {
			p.CriiptoVerify.Version = "V1"
		}
		if p.CriiptoVerify.Version != "V1" && p.CriiptoVerify.Version != "V2" {
			return fault.Invalid(field+".criiptoVerify.version", "must be V1 or V2")
		}
		if env.Verify == nil {
			return fault.Invalid(field+".criiptoVerify", "needs an eID broker, and none is configured on this server; use an oidc provider instead")
		}
		p.CriiptoVerify.Domain, p.CriiptoVerify.ClientID = env.Verify.Domain, env.Verify.ClientID
		if len(p.CriiptoVerify.Audiences) == 0 {
			p.CriiptoVerify.Audiences = []string{env.Verify.ClientID}
		}
	case p.Noop != nil:
		p.Kind = ProviderNoop
		if !env.TestApplication {
			return fault.Invalid(field+".noop", "the noop evidence provider is only available to TEST applications")
		}
		if err := checkLine(field+".noop.name", p.Noop.Name, MaxNameLen); err != nil {
			return err
		}
		if strings.TrimSpace(p.Noop.Name) == "" {
			return fault.Invalid(field+".noop.name", "must not be empty")
		}
	case p.Drawable != nil:
		p.Kind = ProviderDrawable
		for _, f := range []struct {
			name string
			v    *int
		}{{"minimumWidth", p.Drawable.MinimumWidth}, {"minimumHeight", p.Drawable.MinimumHeight}} {
			if f.v != nil && (*f.v < 1 || *f.v > 10000) {
				return fault.Invalid(field+".drawable."+f.name, "must be between 1 and 10000 pixels")
			}
		}
	case p.AllOf != nil:
		p.Kind = ProviderAllOf
		if !allowAllOf {
			return fault.Invalid(field+".allOf", "cannot be nested")
		}
		if len(p.AllOf) == 0 {
			return fault.Invalid(field+".allOf.providers", "must not be empty")
		}
		if err := checkList(field+".allOf.providers", len(p.AllOf), MaxAllOfProviders); err != nil {
			return err
		}
		for j := range p.AllOf {
			if err := checkProvider(fmt.Sprintf("%s.allOf.providers[%d]", field, j), &p.AllOf[j], env, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkIssuerDomain checks an oidc provider's domain as the issuer URL it names: "host[:port][/path]"
// means https://host[:port][/path], or the domain is an https URL itself (http only to loopback).
func checkIssuerDomain(field, domain string) error {
	issuer := domain
	if !strings.Contains(domain, "://") {
		issuer = "https://" + domain
	}
	if _, err := ParseWebURL(issuer); err != nil {
		return fault.Invalid(field, "must be a host name or an https issuer URL: %s", err.Error())
	}
	return nil
}

func checkVerifyTexts(field string, c *CriiptoVerifyProvider) error {
	if err := checkLines(field+".acrValues", c.AcrValues, MaxListItems, MaxIdentifierLen); err != nil {
		return err
	}
	if err := checkLines(field+".audiences", c.Audiences, MaxListItems, MaxIdentifierLen); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"uniqueEvidenceKey", c.UniqueEvidenceKey}, {"loginHint", c.LoginHint}, {"scope", c.Scope}} {
		if err := checkOptLine(field+"."+f.name, f.v, MaxIdentifierLen); err != nil {
			return err
		}
	}
	if c.Message != nil {
		return CheckText(field+".message", *c.Message, MaxMessageLen, true)
	}
	return nil
}

func buildDocuments(in []DocumentDraft, env Env) ([]Document, error) {
	if len(in) == 0 {
		return nil, fault.Invalid("documents", "at least one document is required")
	}
	out := make([]Document, len(in))
	refs := map[string]bool{}
	for i, d := range in {
		field := fmt.Sprintf("documents[%d]", i)
		if d.Kind != DocumentPDF {
			return nil, fault.Invalid(field+".xml", "XML documents are not supported; send PDF documents (pdf)")
		}
		if err := checkLine(field+".pdf.title", d.Title, MaxTitleLen); err != nil {
			return nil, err
		}
		if err := checkOptLine(field+".pdf.reference", d.Reference, MaxReferenceLen); err != nil {
			return nil, err
		}
		if strings.TrimSpace(d.Title) == "" {
			return nil, fault.Invalid(field+".pdf.title", "must not be empty")
		}
		if d.DisplayDocumentID != nil && !slices.Contains(DocumentIDLocations, *d.DisplayDocumentID) {
			return nil, fault.Invalid(field+".pdf.displayDocumentID", "must be one of %s, not %q", strings.Join(DocumentIDLocations, ", "), *d.DisplayDocumentID)
		}
		if err := checkDocumentOptions(field, d); err != nil {
			return nil, err
		}
		if d.StorageMode != StorageModeTemporary {
			return nil, fault.Invalid(field+".pdf.storageMode", "must be Temporary")
		}
		if env.MaxDocumentSize > 0 && len(d.Data) > env.MaxDocumentSize {
			return nil, fault.Invalid(field+".pdf.blob", "Document %s is %d bytes, more than the limit of %d bytes (%s)",
				d.Title, len(d.Data), env.MaxDocumentSize, humanBytes(env.MaxDocumentSize))
		}
		if d.Reference != nil {
			if refs[*d.Reference] {
				return nil, fault.Invalid(field+".pdf.reference", "%q is used by another document of this order", *d.Reference)
			}
			refs[*d.Reference] = true
		}
		out[i] = Document{ID: env.NewID(), Kind: d.Kind, Title: d.Title, Reference: d.Reference,
			DocumentID: env.NewID(), DisplayDocumentID: d.DisplayDocumentID, FormEnabled: d.FormEnabled,
			RemoveBookmarks: d.RemoveBookmarks}
	}
	return out, nil
}

func humanBytes(n int) string {
	const mib = 1 << 20
	if n >= mib {
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	}
	return fmt.Sprintf("%d bytes", n)
}

// AddSignatories validates drafts against the order and appends them. field prefixes error paths;
// atCreate lets document ids name a document by its reference. It returns the new signatories' ids.
func (o *SignatureOrder) AddSignatories(field string, drafts []SignatoryDraft, env Env, atCreate bool) ([]string, error) {
	if !atCreate {
		if err := o.requireOpen(); err != nil {
			return nil, err
		}
	}
	if n := o.activeSignatories() + len(drafts); n > o.MaxSignatories {
		return nil, fault.Invalid(field, "too many signatories: the order would have %d, more than maxSignatories %d", n, o.MaxSignatories)
	}
	ids := make([]string, 0, len(drafts))
	for i, d := range drafts {
		s := Signatory{ID: env.NewID(), Status: SignatoryOpen, SignatoryRole: RoleSigner,
			SigningSequence: DefaultSigningSequence, SpanID: env.NewID()}
		if err := o.applySignatoryDraft(fmt.Sprintf("%s[%d]", field, i), &s, d, atCreate); err != nil {
			return nil, err
		}
		o.Signatories = append(o.Signatories, s)
		ids = append(ids, s.ID)
		o.record(env.Now, AuditSignatoryAdded, s.ID, "", "role", string(s.SignatoryRole))
	}
	if err := o.checkSealPositions(field); err != nil {
		return nil, err
	}
	if !atCreate {
		// Build measures the finished order once; here the signatories are the growth.
		if err := o.checkSize(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func (o *SignatureOrder) activeSignatories() int {
	return len(o.Signatories) // a deleted signatory is removed from the order
}

// applySignatoryDraft sets the draft's given fields on s; absent (nil) fields leave s as it is.
func (o *SignatureOrder) applySignatoryDraft(field string, s *Signatory, d SignatoryDraft, atCreate bool) error {
	if err := checkSignatoryBounds(field, d); err != nil {
		return err
	}
	if d.Reference != nil {
		s.Reference = d.Reference
	}
	if d.Role != nil {
		s.Role = d.Role
	}
	if d.SigningAs != nil {
		s.SigningAs = d.SigningAs
	}
	if d.CooldownExpiresAt != nil {
		s.CooldownExpiresAt = d.CooldownExpiresAt
	}
	if d.SignatoryRole != nil {
		switch *d.SignatoryRole {
		case RoleSigner, RoleApprover, RoleViewer:
			s.SignatoryRole = *d.SignatoryRole
		default:
			return fault.Invalid(field+".signatoryRole", "must be SIGNER, APPROVER or VIEWER")
		}
	}
	if d.SigningSequence != nil {
		if *d.SigningSequence < 1 {
			return fault.Invalid(field+".signingSequence", "must be a positive integer")
		}
		s.SigningSequence = *d.SigningSequence
	}
	if d.Documents != nil {
		docs, err := o.resolveSignatoryDocuments(field+".documents", s, d.Documents, atCreate)
		if err != nil {
			return err
		}
		s.Documents = docs
	}
	if err := checkDocumentRoles(field, s); err != nil { // docroles.go: also fields and preapproval by role
		return err
	}
	if d.EvidenceProviders != nil {
		if len(d.EvidenceProviders) == 0 {
			return fault.Invalid(field+".evidenceProviders", "must not be empty (omit it for the order's default providers)")
		}
		for j, id := range d.EvidenceProviders {
			if o.provider(id) == nil {
				return fault.Invalid(fmt.Sprintf("%s.evidenceProviders[%d].id", field, j), "%q is not an evidence provider of this order", id)
			}
		}
		s.EvidenceProviders = d.EvidenceProviders
		settings, err := o.checkProviderSettings(field+".evidenceProviders", d.EvidenceProviders, d.ProviderSettings)
		if err != nil {
			return err
		}
		s.ProviderSettings = settings
	}
	if d.EvidenceValidation != nil {
		for j, v := range d.EvidenceValidation {
			f := fmt.Sprintf("%s.evidenceValidation[%d]", field, j)
			if strings.TrimSpace(v.Key) == "" {
				return fault.Invalid(f+".key", "must not be empty")
			}
			if (v.Value == nil) == (v.Boolean == nil) {
				return fault.Invalid(f, "exactly one of value and boolean must be given")
			}
		}
		s.EvidenceValidation = d.EvidenceValidation
	}
	if d.SignatureAppearance != nil {
		if err := checkAppearance(field+".signatureAppearance", d.SignatureAppearance); err != nil {
			return err
		}
		s.SignatureAppearance = d.SignatureAppearance
	}
	if d.UI != nil {
		ui, err := checkUI(field+".ui", d.UI)
		if err != nil {
			return err
		}
		s.UI = &ui
	}
	return nil
}

// checkSignatoryBounds checks a signatory draft's texts and list lengths before they are compared
// with the order (an unknown id is quoted back in the error, so it must be short first).
func checkSignatoryBounds(field string, d SignatoryDraft) error {
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"reference", d.Reference, MaxReferenceLen}, {"role", d.Role, MaxNameLen}, {"signingAs", d.SigningAs, MaxNameLen}} {
		if err := checkOptLine(field+"."+f.name, f.v, f.max); err != nil {
			return err
		}
	}
	if err := checkList(field+".documents", len(d.Documents), MaxDocuments); err != nil {
		return err
	}
	for j, sd := range d.Documents {
		f := fmt.Sprintf("%s.documents[%d]", field, j)
		if err := checkLine(f+".id", sd.ID, MaxIdentifierLen); err != nil {
			return err
		}
		if err := checkList(f+".pdfSealPositions", len(sd.SealPositions), MaxSealPositions); err != nil {
			return err
		}
		if err := checkList(f+".fields", len(sd.Fields), MaxSignatoryFields); err != nil {
			return err
		}
	}
	if err := checkList(field+".evidenceProviders", len(d.EvidenceProviders), MaxEvidenceProviders); err != nil {
		return err
	}
	for j, id := range d.EvidenceProviders {
		if err := checkLine(fmt.Sprintf("%s.evidenceProviders[%d].id", field, j), id, MaxIdentifierLen); err != nil {
			return err
		}
	}
	if err := checkList(field+".evidenceValidation", len(d.EvidenceValidation), MaxEvidenceValidations); err != nil {
		return err
	}
	for j, v := range d.EvidenceValidation {
		f := fmt.Sprintf("%s.evidenceValidation[%d]", field, j)
		if err := checkLine(f+".key", v.Key, MaxIdentifierLen); err != nil {
			return err
		}
		if err := checkOptLine(f+".value", v.Value, MaxClaimValueLen); err != nil {
			return err
		}
	}
	return nil
}

func (o *SignatureOrder) provider(id string) *EvidenceProvider {
	for i := range o.EvidenceProviders {
		if o.EvidenceProviders[i].ID == id {
			return &o.EvidenceProviders[i]
		}
	}
	return nil
}

// resolveSignatoryDocuments checks the documents a draft gives signatory s (whose current documents
// are the ones being replaced, when it is changed).
func (o *SignatureOrder) resolveSignatoryDocuments(field string, s *Signatory, in []SignatoryDocument, atCreate bool) ([]SignatoryDocument, error) {
	if len(in) == 0 {
		return nil, fault.Invalid(field, "must not be empty (omit it to give the signatory every document)")
	}
	out := make([]SignatoryDocument, 0, len(in))
	seen := map[string]bool{}
	for j, sd := range in {
		f := fmt.Sprintf("%s[%d]", field, j)
		doc := o.Document(sd.ID)
		if doc == nil && atCreate {
			for k := range o.Documents {
				if r := o.Documents[k].Reference; r != nil && *r == sd.ID {
					doc = &o.Documents[k]
				}
			}
		}
		if doc == nil {
			return nil, fault.Invalid(f+".id", "%q is not a document of this order", sd.ID)
		}
		if seen[doc.ID] {
			return nil, fault.Invalid(f+".id", "document %q is listed twice", sd.ID)
		}
		seen[doc.ID] = true
		sd.ID = doc.ID
		switch {
		case len(sd.Fields) > 0 && !atCreate:
			// The fields are form fields created in the document at intake, before anyone signs.
			return nil, fault.Invalid(f+".fields", "can be given only when the order is created: fields are created in the document before anyone signs")
		case len(sd.Fields) > 0:
			if err := checkFields(f, s.ID, &sd); err != nil {
				return nil, err
			}
		default:
			// A changed signatory keeps the fields created for it on a document it keeps.
			for _, old := range s.Documents {
				if old.ID == sd.ID {
					sd.Fields = old.Fields
				}
			}
		}
		for k := range sd.SealPositions {
			p := &sd.SealPositions[k]
			pf := fmt.Sprintf("%s.pdfSealPositions[%d]", f, k)
			if p.Page < 1 {
				return nil, fault.Invalid(pf+".page", "must be a page number from 1")
			}
			if p.X < 0 || p.Y < 0 || math.IsNaN(p.X) || math.IsNaN(p.Y) {
				return nil, fault.Invalid(pf, "x and y must be non-negative")
			}
			if p.Scale != nil {
				if *p.Scale < 0.2 || *p.Scale > 1.0 {
					return nil, fault.Invalid(pf+".scale", "must be between 0.2 and 1.0")
				}
				rounded := math.Floor(*p.Scale*10+1e-9) / 10
				p.Scale = &rounded
			}
		}
		out = append(out, sd)
	}
	return out, nil
}

// checkSealPositions enforces "seal positions defined for one signatory/document means defined for all".
func (o *SignatureOrder) checkSealPositions(field string) error {
	with, without := 0, 0
	for _, s := range o.Signatories {
		if s.Documents == nil {
			without += len(o.Documents)
			continue
		}
		for _, sd := range s.Documents {
			if len(PlacementsOf("", sd)) > 0 {
				with++
			} else {
				without++
			}
		}
	}
	if with > 0 && without > 0 {
		return fault.Invalid(field, "pdfSealPositions given for some signatory documents must be given for all of them (a signature field counts as one)")
	}
	return nil
}
