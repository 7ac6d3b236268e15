// Package certificate renders an order's completion certificate: a PDF a person can show an auditor
// or a court, with the order, its documents and their SHA-256 before and after signing, each
// signatory's evidence and events, and the order's events, in the order's language and time zone.
//
// Render is a pure function of its input: the same Certificate gives the same bytes (no random
// ids, no clock), so the certificate can be rendered again to check it. Its output is a plain,
// unsigned PDF 1.7 with one classic cross-reference table, ready for an incremental signature
// (pades.Sign) and a document timestamp, which the caller adds.
package certificate

import (
	"context"
	"errors"
	"fmt"
	"time"

	// The zone database is built in: a certificate's times must not depend on the host's
	// /usr/share/zoneinfo (absent from minimal images) or its version.
	_ "time/tzdata"

	"esign/internal/i18n"
)

// Certificate is what a completion certificate shows. Texts are shown as given (Status and Role
// too: word them in the certificate's language before rendering).
type Certificate struct {
	Language, Timezone  string // an i18n language code (unknown or empty: i18n.Default); an IANA zone for every time shown (empty: UTC)
	OrderID, Title      string
	CreatedAt, ClosedAt time.Time // ClosedAt zero: not closed (rendered when the last signatory signed)
	Status              string    // the order's status
	Documents           []Document
	Signatories         []Signatory
	Events              []Event // order-level events (created, closed, deleted...), oldest first
	IssuedAt            time.Time
}

// Document is one document of the order with its fingerprints, as lowercase or uppercase hex.
type Document struct {
	Title, ID                    string
	SHA256Original, SHA256Signed string
	Pages                        int
}

// Signatory is one signatory with its evidence summary (one line each: provider, name shown, claim
// names) and its events, oldest first.
type Signatory struct {
	Name, Reference, Role, Status string
	Evidence                      []string
	Events                        []Event
}

// Event is one thing that happened, already worded in the certificate's language, with the IP
// address and user agent of the person who acted (empty when no person did).
type Event struct {
	At            time.Time
	Text          string
	IP, UserAgent string
}

// The bounds of one certificate: beyond them Render refuses (ErrTooLarge) rather than spend
// minutes and megabytes on one file. 10,000 events lay out as a few hundred pages.
const (
	MaxEvents      = 10_000 // the order's and every signatory's together
	MaxSignatories = 1_000
	MaxDocuments   = 50
	// MaxTextBytes bounds all texts together (titles, names, evidence, event texts, user agents).
	MaxTextBytes = 8 << 20
)

// ErrTooLarge is wrapped by Render's error when a certificate is over one of the bounds.
var ErrTooLarge = errors.New("completion certificate over its bounds")

// Render lays c out on as many A4 pages as it needs and returns the PDF.
func Render(ctx context.Context, c Certificate) ([]byte, error) {
	if err := check(c); err != nil {
		return nil, err
	}
	zone, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("completion certificate time zone %q: %w", c.Timezone, err)
	}
	lang := c.Language
	if !i18n.Supported(lang) {
		lang = i18n.Default
	}
	l, err := newLayout(i18n.T(lang), zone)
	if err != nil {
		return nil, fmt.Errorf("completion certificate: %w", err)
	}
	if err := l.certificate(ctx, c); err != nil {
		return nil, err
	}
	pages := l.paginate()
	data, err := l.write(pages, c, i18n.HTML(lang))
	if err != nil {
		return nil, fmt.Errorf("completion certificate: %w", err)
	}
	return data, nil
}

// check refuses a certificate over the bounds or without the time it was issued at.
func check(c Certificate) error {
	if c.IssuedAt.IsZero() {
		return errors.New("completion certificate: IssuedAt is required")
	}
	if n := len(c.Documents); n > MaxDocuments {
		return fmt.Errorf("%w: %d documents, at most %d", ErrTooLarge, n, MaxDocuments)
	}
	if n := len(c.Signatories); n > MaxSignatories {
		return fmt.Errorf("%w: %d signatories, at most %d", ErrTooLarge, n, MaxSignatories)
	}
	events := len(c.Events)
	text := len(c.OrderID) + len(c.Title) + len(c.Status) + len(c.Language) + len(c.Timezone)
	for _, e := range c.Events {
		text += len(e.Text) + len(e.IP) + len(e.UserAgent)
	}
	for _, d := range c.Documents {
		text += len(d.Title) + len(d.ID) + len(d.SHA256Original) + len(d.SHA256Signed)
	}
	for _, s := range c.Signatories {
		events += len(s.Events)
		text += len(s.Name) + len(s.Reference) + len(s.Role) + len(s.Status)
		for _, e := range s.Evidence {
			text += len(e)
		}
		for _, e := range s.Events {
			text += len(e.Text) + len(e.IP) + len(e.UserAgent)
		}
	}
	if events > MaxEvents {
		return fmt.Errorf("%w: %d events, at most %d", ErrTooLarge, events, MaxEvents)
	}
	if text > MaxTextBytes {
		return fmt.Errorf("%w: %d bytes of text, at most %d", ErrTooLarge, text, MaxTextBytes)
	}
	return nil
}
