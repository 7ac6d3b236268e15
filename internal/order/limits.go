package order

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"esign/internal/fault"
)

// Every text an integrator or a signatory sends ends up in the order's JSON, which the store rewrites
// on every change (a signatory opening their link included), and much of it on the signing page and
// in webhook payloads. Unbounded text let one caller make every write of every tenant slow, so each
// string and list of the schema has a bound here, in one table the README lists.

// Lengths of text, in characters (runes: a Danish title of 255 letters is as welcome as an English one).
const (
	MaxTitleLen        = 255     // order and document titles
	MaxReferenceLen    = 255     // the integrator's references of signatories and documents
	MaxNameLen         = 255     // names, roles, signingAs
	MaxDrawableNameLen = 200     // the name written beside a drawn signature (the seal has room for this)
	MaxIdentifierLen   = 255     // ids, client ids, audiences, acr values, scopes, claim names, keys
	MaxClaimValueLen   = 1024    // an evidenceValidation value (a claim's expected value)
	MaxTemplateLen     = 1000    // one line of a signature appearance
	MaxMessageLen      = 2000    // text shown to or written by a signatory: provider message, rejection reason
	MaxURLLen          = 2048    // every URL field
	MaxDataLogoLen     = 32768   // a data: logo, whole (about 24 KiB of image)
	MaxTimestampLen    = 64      // ISO-8601 strings
	MaxTokenLen        = 16384   // JWTs and ID token hints
	MaxCodeLen         = 2048    // authorization codes, OAuth state, cursors, retry payloads
	MaxNoteLen         = 2000    // API key notes
	MaxOrderBytes      = 1 << 20 // the whole order as stored, without its documents' key material
)

// Lengths of lists where the contract sets none.
const (
	MaxDocuments           = 50  // documents of one order
	MaxEvidenceProviders   = 20  // evidence providers of an order, or chosen by a signatory
	MaxAllOfProviders      = 10  // members of one allOf provider
	MaxEvidenceValidations = 50  // evidenceValidation entries of one signatory
	MaxSealPositions       = 100 // pdfSealPositions of one signatory document
	MaxListItems           = 20  // acrValues, audiences, identifierFromEvidence, templates, replacements, fromEvidence
	MaxFormFields          = 500 // form field values given when signing
	MaxBatchItems          = 50  // items of one batch signatory: the contract sets none; one person signing 50 orders at once is a lot
)

// Bounds of placements (placement.go), from the REST contracts where they set them.
const (
	MaxAnchorTextLen   = 200   // anchorTags[].anchorString: 1–200 characters
	MaxAnchorSize      = 1000  // anchorTags[].width, .height: points, > 0 and at most this
	MaxPagePoints      = 14400 // the largest page ISO 32000 allows (200 inches): bounds coordinates in points
	MaxPlacedRects     = 500   // rectangles one signatory's placements resolve to on one document (anchors repeat)
	MaxPlacementsInput = 200   // fields, or anchorTags, of one request
)

// Kind is what a limited field may hold.
type Kind string

const (
	KindLine      Kind = "line"      // one line of text: no control characters at all
	KindText      Kind = "text"      // text: tab, line feed and carriage return allowed, other controls not
	KindURL       Kind = "url"       // an absolute https URL (http only to a loopback host), see checkURL
	KindLogo      Kind = "logo"      // a URL, or a data: URL of a PNG, JPEG, GIF or WebP image
	KindTimestamp Kind = "timestamp" // an ISO-8601 date and time
	KindList      Kind = "list"      // a list: Max is its number of items
	KindBlob      Kind = "blob"      // base64 bytes, bounded by the rule in Note
)

// Limit bounds one input field, named by its GraphQL schema coordinate (Type.field, or
// Type.field(argument:) for a field argument).
type Limit struct {
	Field string
	Max   int
	Kind  Kind
	Note  string // where the bound is not Max: the configured document size, the secret's bits
}

// Limits is the table of every bounded input of the schema; a test keeps it complete.
var Limits = []Limit{
	{"AddSignatoriesInput.signatories", MaxSignatoriesHardLimit, KindList, "and at most maxSignatories in the order"},
	{"AddSignatoriesInput.signatureOrderId", MaxIdentifierLen, KindLine, ""},
	{"AddSignatoryInput.cooldownExpiresAt", MaxTimestampLen, KindTimestamp, ""},
	{"AddSignatoryInput.documents", MaxDocuments, KindList, ""},
	{"AddSignatoryInput.evidenceProviders", MaxEvidenceProviders, KindList, ""},
	{"AddSignatoryInput.evidenceValidation", MaxEvidenceValidations, KindList, ""},
	{"AddSignatoryInput.reference", MaxReferenceLen, KindLine, ""},
	{"AddSignatoryInput.role", MaxNameLen, KindLine, ""},
	{"AddSignatoryInput.signatureOrderId", MaxIdentifierLen, KindLine, ""},
	{"AddSignatoryInput.signingAs", MaxNameLen, KindLine, ""},
	{"AllOfEvidenceProviderInput.providers", MaxAllOfProviders, KindList, ""},
	{"Application.signatureOrders(after:)", MaxCodeLen, KindLine, ""},
	{"Application.webhookLogs(from:)", MaxTimestampLen, KindTimestamp, ""},
	{"Application.webhookLogs(to:)", MaxTimestampLen, KindTimestamp, ""},
	{"BatchSignatoryItemInput.signatoryId", MaxIdentifierLen, KindLine, ""},
	{"BatchSignatoryItemInput.signatureOrderId", MaxIdentifierLen, KindLine, ""},
	{"CancelSignatureOrderInput.signatureOrderId", MaxIdentifierLen, KindLine, ""},
	{"ChangeSignatoryInput.cooldownExpiresAt", MaxTimestampLen, KindTimestamp, ""},
	{"ChangeSignatoryInput.documents", MaxDocuments, KindList, ""},
	{"ChangeSignatoryInput.evidenceProviders", MaxEvidenceProviders, KindList, ""},
	{"ChangeSignatoryInput.evidenceValidation", MaxEvidenceValidations, KindList, ""},
	{"ChangeSignatoryInput.reference", MaxReferenceLen, KindLine, ""},
	{"ChangeSignatoryInput.role", MaxNameLen, KindLine, ""},
	{"ChangeSignatoryInput.signatoryId", MaxIdentifierLen, KindLine, ""},
	{"ChangeSignatoryInput.signingAs", MaxNameLen, KindLine, ""},
	{"ChangeSignatureOrderInput.signatureOrderId", MaxIdentifierLen, KindLine, ""},
	{"CleanupSignatureOrderInput.signatureOrderId", MaxIdentifierLen, KindLine, ""},
	{"CloseSignatureOrderInput.signatureOrderId", MaxIdentifierLen, KindLine, ""},
	{"CompleteCriiptoVerifyEvidenceProviderInput.code", MaxCodeLen, KindLine, ""},
	{"CompleteCriiptoVerifyEvidenceProviderInput.state", MaxCodeLen, KindLine, ""},
	{"CreateApplicationApiKeyInput.applicationId", MaxIdentifierLen, KindLine, ""},
	{"CreateApplicationApiKeyInput.note", MaxNoteLen, KindText, ""},
	{"CreateApplicationInput.applicationId", MaxIdentifierLen, KindLine, ""},
	{"CreateApplicationInput.name", MaxNameLen, KindLine, ""},
	{"CreateApplicationInput.tenantId", MaxIdentifierLen, KindLine, ""},
	{"CreateApplicationInput.verifyApplicationDomain", MaxIdentifierLen, KindLine, ""},
	{"CreateApplicationInput.verifyApplicationRealm", MaxIdentifierLen, KindLine, ""},
	{"CreateBatchSignatoryInput.items", MaxBatchItems, KindList, ""},
	{"CreateSignatureOrderInput.documents", MaxDocuments, KindList, ""},
	{"CreateSignatureOrderInput.evidenceProviders", MaxEvidenceProviders, KindList, ""},
	{"CreateSignatureOrderInput.evidenceValidationStages", 2, KindList, "VIEW and SIGN, each once"},
	{"CreateSignatureOrderInput.expiresAt", MaxTimestampLen, KindTimestamp, ""},
	{"CreateSignatureOrderInput.signatories", MaxSignatoriesHardLimit, KindList, "and at most maxSignatories"},
	{"CreateSignatureOrderInput.timezone", MaxIdentifierLen, KindLine, "an IANA timezone name"},
	{"CreateSignatureOrderInput.title", MaxTitleLen, KindLine, ""},
	{"CreateSignatureOrderSignatoryInput.cooldownExpiresAt", MaxTimestampLen, KindTimestamp, ""},
	{"CreateSignatureOrderSignatoryInput.documents", MaxDocuments, KindList, ""},
	{"CreateSignatureOrderSignatoryInput.evidenceProviders", MaxEvidenceProviders, KindList, ""},
	{"CreateSignatureOrderSignatoryInput.evidenceValidation", MaxEvidenceValidations, KindList, ""},
	{"CreateSignatureOrderSignatoryInput.reference", MaxReferenceLen, KindLine, ""},
	{"CreateSignatureOrderSignatoryInput.role", MaxNameLen, KindLine, ""},
	{"CreateSignatureOrderSignatoryInput.signingAs", MaxNameLen, KindLine, ""},
	{"CreateSignatureOrderUIInput.signatoryRedirectUri", MaxURLLen, KindURL, ""},
	{"CreateSignatureOrderUIInput.stylesheet", MaxURLLen, KindURL, ""},
	{"CreateSignatureOrderWebhookInput.secret", 0, KindBlob, "256 to 512 bits"},
	{"CreateSignatureOrderWebhookInput.url", MaxURLLen, KindURL, ""},
	{"CriiptoVerifyProviderInput.acrValues", MaxListItems, KindList, "each at most 255 characters"},
	{"CriiptoVerifyProviderInput.audiences", MaxListItems, KindList, "each at most 255 characters"},
	{"CriiptoVerifyProviderInput.loginHint", MaxIdentifierLen, KindLine, ""},
	{"CriiptoVerifyProviderInput.message", MaxMessageLen, KindText, ""},
	{"CriiptoVerifyProviderInput.scope", MaxIdentifierLen, KindLine, ""},
	{"CriiptoVerifyProviderInput.uniqueEvidenceKey", MaxIdentifierLen, KindLine, ""},
	{"DeleteApplicationApiKeyInput.apiKeyId", MaxIdentifierLen, KindLine, ""},
	{"DeleteApplicationApiKeyInput.applicationId", MaxIdentifierLen, KindLine, ""},
	{"DeleteSignatoryInput.signatoryId", MaxIdentifierLen, KindLine, ""},
	{"DeleteSignatoryInput.signatureOrderId", MaxIdentifierLen, KindLine, ""},
	{"DownloadVerificationCriiptoVerifyInput.jwt", MaxTokenLen, KindLine, ""},
	{"DownloadVerificationOidcInput.jwt", MaxTokenLen, KindLine, ""},
	{"ExtendSignatureOrderInput.signatureOrderId", MaxIdentifierLen, KindLine, ""},
	{"NoopEvidenceProviderInput.name", MaxNameLen, KindLine, ""},
	{"OidcEvidenceProviderInput.acrValues", MaxListItems, KindList, "each at most 255 characters"},
	{"OidcEvidenceProviderInput.audience", MaxIdentifierLen, KindLine, ""},
	{"OidcEvidenceProviderInput.clientID", MaxIdentifierLen, KindLine, ""},
	{"OidcEvidenceProviderInput.domain", MaxURLLen, KindURL, "a host name, or an https issuer URL"},
	{"OidcEvidenceProviderInput.name", MaxNameLen, KindLine, ""},
	{"OidcEvidenceProviderInput.uniqueEvidenceKey", MaxIdentifierLen, KindLine, ""},
	{"PadesDocumentInput.blob", 0, KindBlob, "the configured largest document"},
	{"PadesDocumentInput.reference", MaxReferenceLen, KindLine, ""},
	{"PadesDocumentInput.title", MaxTitleLen, KindLine, ""},
	{"PadesDocumentSealsPageTemplateInput.blob", 0, KindBlob, "the configured largest document"},
	{"Query.__type(name:)", MaxIdentifierLen, KindLine, ""},
	{"Query.application(id:)", MaxIdentifierLen, KindLine, ""},
	{"Query.batchSignatory(id:)", MaxIdentifierLen, KindLine, ""},
	{"Query.document(id:)", MaxIdentifierLen, KindLine, ""},
	{"Query.signatory(id:)", MaxIdentifierLen, KindLine, ""},
	{"Query.signatureOrder(id:)", MaxIdentifierLen, KindLine, ""},
	{"Query.tenant(id:)", MaxIdentifierLen, KindLine, ""},
	{"RefreshApplicationApiKeyInput.apiKeyId", MaxIdentifierLen, KindLine, ""},
	{"RefreshApplicationApiKeyInput.applicationId", MaxIdentifierLen, KindLine, ""},
	{"RejectSignatureOrderInput.reason", MaxMessageLen, KindText, ""},
	{"RetrySignatureOrderWebhookInput.retryPayload", MaxCodeLen, KindLine, ""},
	{"RetrySignatureOrderWebhookInput.signatureOrderId", MaxIdentifierLen, KindLine, ""},
	{"SignActingAsInput.signatoryId", MaxIdentifierLen, KindLine, ""},
	{"SignCriiptoVerifyInput.jwt", MaxTokenLen, KindLine, ""},
	{"SignCriiptoVerifyV2Input.code", MaxCodeLen, KindLine, ""},
	{"SignCriiptoVerifyV2Input.state", MaxCodeLen, KindLine, ""},
	{"SignDocumentFormFieldInput.field", MaxIdentifierLen, KindLine, ""},
	{"SignDocumentFormFieldInput.value", MaxMessageLen, KindText, ""},
	{"SignDocumentFormInput.fields", MaxFormFields, KindList, ""},
	{"SignDocumentInput.id", MaxIdentifierLen, KindLine, ""},
	{"SignDrawableInput.image", 0, KindBlob, "the drawn image size limit of the evidence package"},
	{"SignDrawableInput.name", MaxDrawableNameLen, KindLine, ""},
	{"SignInput.documents", MaxDocuments, KindList, ""},
	{"SignInput.id", MaxIdentifierLen, KindLine, ""},
	{"SignOidcInput.jwt", MaxTokenLen, KindLine, ""},
	{"SignatoryDocumentFieldAnchorInput.text", MaxAnchorTextLen, KindLine, ""},
	{"SignatoryDocumentFieldInput.label", MaxFieldLabelLen, KindLine, ""},
	{"SignatoryDocumentFieldInput.options", MaxFieldOptions, KindList, "each at most 100 characters"},
	{"SignatoryDocumentInput.fields", MaxSignatoryFields, KindList, ""},
	{"SignatoryDocumentInput.id", MaxIdentifierLen, KindLine, ""},
	{"SignatoryDocumentInput.pdfSealPositions", MaxSealPositions, KindList, ""},
	{"SignatoryEvidenceProviderInput.id", MaxIdentifierLen, KindLine, ""},
	{"SignatoryEvidenceValidationInput.key", MaxIdentifierLen, KindLine, ""},
	{"SignatoryEvidenceValidationInput.value", MaxClaimValueLen, KindLine, ""},
	{"SignatoryUIInput.signatoryRedirectUri", MaxURLLen, KindURL, ""},
	{"SignatoryUIInput.stylesheet", MaxURLLen, KindURL, ""},
	{"SignatureAppearanceInput.displayName", MaxListItems, KindList, ""},
	{"SignatureAppearanceInput.footer", MaxListItems, KindList, ""},
	{"SignatureAppearanceInput.headerLeft", MaxListItems, KindList, ""},
	{"SignatureAppearanceInput.identifierFromEvidence", MaxListItems, KindList, "each at most 255 characters"},
	{"SignatureAppearanceTemplateInput.replacements", MaxListItems, KindList, ""},
	{"SignatureAppearanceTemplateInput.template", MaxTemplateLen, KindLine, ""},
	{"SignatureAppearanceTemplateReplacementInput.fromEvidence", MaxListItems, KindList, "each at most 255 characters"},
	{"SignatureAppearanceTemplateReplacementInput.placeholder", MaxIdentifierLen, KindLine, ""},
	{"SignatureOrderUILogoInput.href", MaxURLLen, KindURL, ""},
	{"SignatureOrderUILogoInput.src", MaxURLLen, KindLogo, "a data: logo up to 32,768 characters"},
	{"SignatureOrderWebhook.logs(from:)", MaxTimestampLen, KindTimestamp, ""},
	{"SignatureOrderWebhook.logs(to:)", MaxTimestampLen, KindTimestamp, ""},
	{"StartCriiptoVerifyEvidenceProviderInput.acrValue", MaxIdentifierLen, KindLine, ""},
	{"StartCriiptoVerifyEvidenceProviderInput.id", MaxIdentifierLen, KindLine, ""},
	{"StartCriiptoVerifyEvidenceProviderInput.idTokenHint", MaxTokenLen, KindLine, ""},
	{"StartCriiptoVerifyEvidenceProviderInput.redirectUri", MaxURLLen, KindURL, ""},
	{"Tenant.applications(domain:)", MaxIdentifierLen, KindLine, ""},
	{"Tenant.webhookLogs(from:)", MaxTimestampLen, KindTimestamp, ""},
	{"Tenant.webhookLogs(to:)", MaxTimestampLen, KindTimestamp, ""},
	{"UpdateSignatoryDocumentStatusInput.documentId", MaxIdentifierLen, KindLine, ""},
	{"ValidateDocumentInput.pdf", 0, KindBlob, "the configured largest document"},
	{"ValidateDocumentInput.xml", 0, KindBlob, "the configured largest document"},
	{"VerifyApplicationQueryInput.domain", MaxIdentifierLen, KindLine, ""},
	{"VerifyApplicationQueryInput.realm", MaxIdentifierLen, KindLine, ""},
	{"VerifyApplicationQueryInput.tenantId", MaxIdentifierLen, KindLine, ""},
	{"XadesDocumentInput.blob", 0, KindBlob, "the configured largest document"},
	{"XadesDocumentInput.reference", MaxReferenceLen, KindLine, ""},
	{"XadesDocumentInput.title", MaxTitleLen, KindLine, ""},
}

// CheckText refuses text longer than max characters, text that is not UTF-8, and control
// characters (C0, DEL and C1): none at all in a line, only tab, line feed and carriage return in
// multiline text. NUL in particular would be cut or refused by some stores and PDF writers and not
// by others, and an escape sequence in a name reaches whoever reads the logs.
func CheckText(field, s string, max int, multiline bool) error {
	// A rune is at most 4 bytes: a longer string is too long without counting (a 10 MiB title is
	// refused in constant time).
	if len(s) > 4*max {
		return fault.Invalid(field, "must be at most %d characters, got %d bytes", max, len(s))
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fault.Invalid(field, "must be at most %d characters, got %d", max, n)
	}
	if !utf8.ValidString(s) {
		return fault.Invalid(field, "must be valid UTF-8")
	}
	for i, r := range s {
		if r == '\t' || r == '\n' || r == '\r' {
			if multiline {
				continue
			}
			return fault.Invalid(field, "must be one line: control character %U at byte %d", r, i)
		}
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return fault.Invalid(field, "must not contain control characters: %U at byte %d", r, i)
		}
	}
	return nil
}

func checkLine(field, s string, max int) error { return CheckText(field, s, max, false) }

func checkOptLine(field string, s *string, max int) error {
	if s == nil {
		return nil
	}
	return checkLine(field, *s, max)
}

func checkList(field string, n, max int) error {
	if n > max {
		return fault.Invalid(field, "must have at most %d items, got %d", max, n)
	}
	return nil
}

func checkLines(field string, list []string, maxItems, maxLen int) error {
	if err := checkList(field, len(list), maxItems); err != nil {
		return err
	}
	for i, s := range list {
		if err := checkLine(fmt.Sprintf("%s[%d]", field, i), s, maxLen); err != nil {
			return err
		}
	}
	return nil
}

// checkURL accepts what may be put into a Content-Security-Policy, an href and a Location header
// without escaping: an absolute https URL (http only to a loopback host, the integrator's own
// machine), with a host that is a DNS name or an IP literal, no user information, and none of the
// characters that end a CSP source list or an attribute (see urlForbidden). data: URLs are a logo
// only (allowData).
func checkURL(field, raw string, allowData bool) error {
	if allowData && strings.HasPrefix(raw, "data:") {
		return CheckDataLogo(field, raw)
	}
	if err := CheckText(field, raw, MaxURLLen, false); err != nil {
		return err
	}
	if _, err := ParseWebURL(raw); err != nil {
		return fault.Invalid(field, "must be an absolute http(s) URL: %s", err.Error())
	}
	return nil
}

// urlForbidden are the characters refused anywhere in a URL: whitespace, quotes and angle brackets
// end an attribute or a header, ';' and ',' end a CSP directive or source list. A URL that needs
// one of them in its path or query percent-encodes it.
const urlForbidden = " \"'<>\\^`{|};,"

// ParseWebURL parses a URL by the rules of checkURL and returns it; callers that build a CSP or a
// redirect from stored URLs re-check them with it (orders stored before the rules were strict).
func ParseWebURL(raw string) (*url.URL, error) {
	if i := strings.IndexAny(raw, urlForbidden); i >= 0 {
		return nil, fmt.Errorf("character %q is not allowed (percent-encode it)", raw[i])
	}
	for _, r := range raw {
		if r < 0x21 || r >= 0x7f {
			return nil, fmt.Errorf("only visible ASCII characters are allowed (percent-encode others)")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("it does not parse")
	}
	// The scheme must be lowercase as sent, so that what is checked is what a browser reads.
	if !strings.HasPrefix(raw, "https://") && !strings.HasPrefix(raw, "http://") {
		return nil, fmt.Errorf("the scheme must be https")
	}
	if u.User != nil {
		return nil, fmt.Errorf("user information is not allowed")
	}
	host, _, err := splitHost(u.Host)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "http" && !isLoopback(host) {
		return nil, fmt.Errorf("the scheme must be https (http only to localhost)")
	}
	return u, nil
}

// Origin is "scheme://host[:port]" of a URL that passes ParseWebURL, re-serialised from its parsed
// parts (which ParseWebURL checked) so nothing but a scheme, a checked host and a number reaches a
// CSP source list.
func Origin(raw string) (string, bool) {
	u, err := ParseWebURL(raw)
	if err != nil {
		return "", false
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, true
}

// splitHost checks an authority (host[:port]) and returns its host (an IPv6 literal without
// brackets) and port.
func splitHost(authority string) (host, port string, err error) {
	if authority == "" {
		return "", "", fmt.Errorf("a host is required")
	}
	if strings.ContainsAny(authority, "%") {
		return "", "", fmt.Errorf("the host must not be percent-encoded")
	}
	host = authority
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", "", fmt.Errorf("the IPv6 host has no closing bracket")
		}
		host, port = authority[1:end], authority[end+1:]
		a, perr := netip.ParseAddr(host)
		if perr != nil || !a.Is6() || a.Zone() != "" {
			return "", "", fmt.Errorf("%q is not an IPv6 address", host)
		}
		if port != "" {
			if port[0] != ':' {
				return "", "", fmt.Errorf("a port must follow the IPv6 host")
			}
			port = port[1:]
			if err := checkPort(port); err != nil {
				return "", "", err
			}
		}
		return host, port, nil
	}
	if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i+1:]
		if err := checkPort(port); err != nil {
			return "", "", err
		}
	}
	if a, perr := netip.ParseAddr(host); perr == nil {
		if !a.Is4() {
			return "", "", fmt.Errorf("an IPv6 host must be in brackets")
		}
		return host, port, nil
	}
	if !validHostname(host) {
		return "", "", fmt.Errorf("%q is not a valid host name", host)
	}
	return host, port, nil
}

var errPort = errors.New("the port must be a number from 1 to 65535")

// checkPort accepts decimal digits only (strconv would take a sign) of a number from 1 to 65535.
func checkPort(p string) error {
	if p == "" || len(p) > 5 {
		return errPort
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return errPort
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > 65535 {
		return errPort
	}
	return nil
}

// validHostname accepts DNS names of letters, digits and hyphens (IDNs in their xn-- form). The
// last label may not be all digits, so that "1.2.3" or "0x7f.1" cannot stand for an IPv4 address
// that some resolver reads differently from us.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != "" && !strings.HasPrefix(strings.ToLower(last), "0x")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// dataLogoTypes are the image types a data: logo may have, with the bytes every such image starts
// with. SVG is not among them: an SVG is a document that can carry script and external references,
// and a logo does not need that.
var dataLogoTypes = map[string][]byte{
	"image/png":  []byte("\x89PNG\r\n\x1a\n"),
	"image/jpeg": {0xff, 0xd8, 0xff},
	"image/gif":  []byte("GIF8"),
	"image/webp": []byte("RIFF"),
}

// CheckDataLogo accepts "data:image/<png|jpeg|gif|webp>;base64,<standard base64>" of at most
// MaxDataLogoLen characters whose bytes are an image of the type it claims. The signing page renders
// only what passes this check (its CSP allows img-src data:).
func CheckDataLogo(field, raw string) error {
	if len(raw) > MaxDataLogoLen {
		return fault.Invalid(field, "a data: logo must be at most %d characters, got %d", MaxDataLogoLen, len(raw))
	}
	mediaType, payload, ok := strings.Cut(strings.TrimPrefix(raw, "data:"), ";base64,")
	magic, known := dataLogoTypes[mediaType]
	if !ok || !known {
		return fault.Invalid(field, "a data: logo must be data:image/png, jpeg, gif or webp;base64,…")
	}
	img, err := base64.StdEncoding.Strict().DecodeString(payload)
	if err != nil {
		return fault.Invalid(field, "a data: logo must be standard base64 with padding")
	}
	if !bytes.HasPrefix(img, magic) || (mediaType == "image/webp" && (len(img) < 12 || string(img[8:12]) != "WEBP")) {
		return fault.Invalid(field, "the data: logo is not a %s image", strings.TrimPrefix(mediaType, "image/"))
	}
	return nil
}

// checkSize bounds the whole order as stored. Each field has its limit, but a thousand signatories
// with every field full would still make one order megabytes that every change rewrites. What grows
// with signing rather than with input (the documents' versions, the signatories' document statuses)
// is not counted, so that an order busy being signed can still be changed.
func (o *SignatureOrder) checkSize() error {
	c := *o
	c.AuditKey = nil // key material, like the documents' (MaxOrderBytes)
	c.Documents = make([]Document, len(o.Documents))
	for i, d := range o.Documents {
		d.Versions = nil
		if d.SealsPageTemplate != nil {
			// The template's layout is input and counts; its blob's key material, like a
			// version's, does not (MaxOrderBytes).
			t := *d.SealsPageTemplate
			t.Blob = nil
			d.SealsPageTemplate = &t
		}
		c.Documents[i] = d
	}
	c.Signatories = make([]Signatory, len(o.Signatories))
	for i, s := range o.Signatories {
		s.DocumentStatus = nil
		c.Signatories[i] = s
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("measure order: %w", err)
	}
	if len(b) > MaxOrderBytes {
		return fault.Invalid("", "the signature order would be %d bytes of settings, more than the limit of %d bytes (%s): use fewer signatories or shorter texts",
			len(b), MaxOrderBytes, humanBytes(MaxOrderBytes))
	}
	return nil
}
