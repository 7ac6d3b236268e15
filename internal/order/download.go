package order

import (
	"slices"
	"strings"
	"time"

	"esign/internal/fault"
)

// A signatory's download of the signed documents (SignatoryViewer.download, Signatory.downloadHref).
//
// Decisions, from the contract and Criipto's documentation (documents are available "up until after
// closeSignatureOrder", or for retainDocumentsForDays after it; cancelled and expired orders lose
// them at once; SIGNATORY_DOWNLOAD_LINK_OPENED is "when a signatory opens the download link
// downloadHref"):
//   - A download exists for a signatory whose act is in the documents (a SIGNER who SIGNED, an
//     APPROVER who APPROVED) once the order is no longer OPEN: while it is open the signed versions
//     are not final (no document timestamp yet, later signatories still to come), and a VIEWER or
//     a signatory who rejected has nothing of theirs to take away.
//   - It is available while the order is CLOSED with its documents retained (retainDocumentsForDays,
//     not yet over, not cleaned up); otherwise it is expired: closed without retention, cancelled,
//     expired, cleaned up or past the retention. It never outlives the documents.
//   - A signatory who signed with an ID token (criiptoVerify or oidc, alone or inside allOf) must log
//     in again with that provider, as the same person, after the signature: the signing link alone
//     (forwarded mail, a shared device) is not enough to take the signed documents away. A drawn or
//     noop signature, or an approval, proved nobody, so there is no one to match; only an order
//     that asks for a VIEW-stage login keeps asking for it here.

// LoginStageDownload is the purpose of a login that verifies a download (carried in the sealed login
// state like the VIEW and SIGN stages; the hosted page's callback then shows the documents).
const LoginStageDownload = "DOWNLOAD"

// MaxDownloadLoginAge is how old the ID token of a download verification may be: it must come from
// a login made for the download, not one kept from long ago.
const MaxDownloadLoginAge = time.Hour

// Download is what a signatory's download is at one moment.
type Download struct {
	// Exists is false while no download can exist yet (the order is open, or the signatory has
	// nothing to take away): no downloadHref, no download.
	Exists bool
	// Expired: the documents are gone, or going (retention over before the sweeper ran).
	Expired bool
	// Documents are the signatory's documents, in order, when the download exists and has not expired.
	Documents []*Document
	// Signed is the first of the signatory's documents with the version their signature made; nil
	// for an approver. Its evidence (in the encrypted PDF only) says whom a verification must match.
	Signed *SignedVersion
}

// SignedVersion is a document version a signatory's signature made.
type SignedVersion struct {
	Document *Document
	Version  *DocumentVersion
}

// DownloadOf is the download of signatory s at now.
func (o *SignatureOrder) DownloadOf(s *Signatory, now time.Time) Download {
	var d Download
	switch {
	case o.Status == StatusOpen:
		return d
	case s.SignatoryRole == RoleSigner && s.Status == SignatorySigned:
	case s.SignatoryRole == RoleApprover && s.Status == SignatoryApproved:
	default:
		return d
	}
	d.Exists = true
	if o.Status != StatusClosed || o.DocumentsDeletedAt != nil || o.RetainDocumentsUntil == nil || !now.Before(*o.RetainDocumentsUntil) {
		d.Expired = true
		return d
	}
	for _, id := range o.SignatoryDocumentIDs(s) {
		doc := o.Document(id)
		if doc == nil || doc.Current() == nil {
			return Download{Exists: true, Expired: true}
		}
		d.Documents = append(d.Documents, doc)
		if d.Signed != nil {
			continue
		}
		for i := range doc.Versions {
			if doc.Versions[i].SignedBy == s.ID {
				d.Signed = &SignedVersion{Document: doc, Version: &doc.Versions[i]}
				break
			}
		}
	}
	return d
}

// SignatureLogin is what a signature's ID token says about who logged in (read back from the signed
// document's evidence): the issuer, the audiences and the subject.
type SignatureLogin struct {
	Issuer   string
	Audience []string
	Subject  string
}

// DownloadProof is what a download verification must prove: a login with Provider, by the person
// who signed when the signature used an ID token, made after the signature.
type DownloadProof struct {
	// Provider is the signatory's evidence provider to log in with (an allOf provider logs in with
	// its login member, Login); its id starts the login.
	Provider EvidenceProvider
	Login    EvidenceProvider
	// Issuer and Subject are the signature's ID token's; empty when there was no ID token to match
	// (a VIEW-stage login: the signatory's evidenceValidation is all there is to check).
	Issuer, Subject string
	// EvidenceKey is the signatory's EvidenceKey when their provider names a uniqueEvidenceKey
	// (EvidenceKeyClaim): the integrator's own word for what tells people apart, compared instead
	// of the subject.
	EvidenceKey, EvidenceKeyClaim string
	// After is when the signature was made; the verification's login must be later.
	After time.Time
}

// DownloadProofFor is what signatory s must prove to download, or nil when nothing: signed is the
// ID token their signature carried (nil for a drawn or noop signature, or an approval);
// viewValidated is whether they made the order's VIEW-stage login. d is their DownloadOf.
func (o *SignatureOrder) DownloadProofFor(s *Signatory, d Download, signed *SignatureLogin, viewValidated bool) *DownloadProof {
	if !d.Exists || d.Expired {
		return nil
	}
	logins := o.loginProviders(s)
	if len(logins) == 0 {
		return nil
	}
	if signed == nil || signed.Issuer == "" {
		if !o.NeedsViewLogin() || viewValidated {
			return nil
		}
		return &DownloadProof{Provider: logins[0][0], Login: logins[0][1]}
	}
	// The provider the signature came from: its issuer and audience; the first login provider when
	// none matches any more (a login elsewhere cannot show the same issuer, so it is refused).
	chosen := logins[0]
	for _, pl := range logins {
		if sameIssuer(providerDomain(pl[1]), signed.Issuer) && slices.Contains(signed.Audience, providerAudience(pl[1])) {
			chosen = pl
			break
		}
	}
	proof := &DownloadProof{Provider: chosen[0], Login: chosen[1], Issuer: signed.Issuer, Subject: signed.Subject}
	if key := chosen[1].UniqueEvidenceKey(); key != "" && s.EvidenceKey != "" {
		proof.EvidenceKey, proof.EvidenceKeyClaim = s.EvidenceKey, key
	}
	if d.Signed != nil {
		proof.After = d.Signed.Version.CreatedAt
	}
	return proof
}

// VerifiedLogin is a checked ID token presented as a download verification.
type VerifiedLogin struct {
	Issuer, Subject string
	// EvidenceKey is the token's unique key under the proof's EvidenceKeyClaim ("" when none asked).
	EvidenceKey string
	IssuedAt    time.Time
}

// Accepts reports whether the login proves what p asks at now: a fresh login (after the signature,
// at most MaxDownloadLoginAge old) by the same person.
func (p DownloadProof) Accepts(l VerifiedLogin, now time.Time) error {
	// ID tokens count whole seconds: a login in the second of the signature is the signature's own.
	fresh := !l.IssuedAt.IsZero() && (p.After.IsZero() || l.IssuedAt.After(p.After.Truncate(time.Second)))
	if !fresh {
		return fault.Forbiddenf("log in again to download: the login must be made after the signature")
	}
	if now.Sub(l.IssuedAt) > MaxDownloadLoginAge {
		return fault.Forbiddenf("log in again to download: the login is older than %s", MaxDownloadLoginAge)
	}
	if p.Issuer == "" {
		return nil
	}
	same := sameIssuer(p.Issuer, l.Issuer)
	if p.EvidenceKey != "" {
		same = same && l.EvidenceKey == p.EvidenceKey
	} else {
		same = same && p.Subject != "" && l.Subject == p.Subject
	}
	if !same {
		return fault.Forbiddenf("the login is not the person who signed: log in as the signatory to download")
	}
	return nil
}

// loginProviders are the signatory's providers that log in with OpenID Connect, each with its login
// member (itself, or the first login member of an allOf).
func (o *SignatureOrder) loginProviders(s *Signatory) [][2]EvidenceProvider {
	var out [][2]EvidenceProvider
	for _, p := range o.SignatoryProviders(s) {
		switch {
		case p.OIDC != nil || p.CriiptoVerify != nil:
			out = append(out, [2]EvidenceProvider{p, p})
		case p.Kind == ProviderAllOf:
			for _, sub := range p.AllOf {
				if sub.OIDC != nil || sub.CriiptoVerify != nil {
					out = append(out, [2]EvidenceProvider{p, sub})
					break
				}
			}
		}
	}
	return out
}

func providerDomain(p EvidenceProvider) string {
	if p.OIDC != nil {
		return p.OIDC.Domain
	}
	return p.CriiptoVerify.Domain
}

// providerAudience is the audience the provider's ID tokens are checked for (as signing checks them).
func providerAudience(p EvidenceProvider) string {
	if p.OIDC != nil {
		if p.OIDC.Audience != "" {
			return p.OIDC.Audience
		}
		return p.OIDC.ClientID
	}
	return p.CriiptoVerify.ClientID
}

// UniqueEvidenceKey is the claim that must differ between the order's signatories (and that names
// the same person again at a download), if the provider names one.
func (p EvidenceProvider) UniqueEvidenceKey() string {
	switch {
	case p.OIDC != nil && p.OIDC.UniqueEvidenceKey != nil:
		return *p.OIDC.UniqueEvidenceKey
	case p.CriiptoVerify != nil && p.CriiptoVerify.UniqueEvidenceKey != nil:
		return *p.CriiptoVerify.UniqueEvidenceKey
	}
	return ""
}

// sameIssuer compares a provider domain or issuer with an issuer, without scheme and trailing slash
// (a domain "idp.example" names the issuer "https://idp.example").
func sameIssuer(a, b string) bool {
	norm := func(s string) string {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
		return strings.TrimRight(s, "/")
	}
	return a != "" && norm(a) == norm(b)
}
