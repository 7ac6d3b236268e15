package signing

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pki"
	"esign/internal/store"
	"esign/internal/tenant"
)

// Page sizes for viewer.signatureOrders.
const (
	DefaultPageSize = 10
	MaxPageSize     = 100
)

var errReadOnly = fault.Forbiddenf("this API key is READ_ONLY: mutations need a READ_WRITE key")

func requireWrite(p Principal) error {
	if !p.CanWrite() {
		return errReadOnly
	}
	return nil
}

func (s *Service) env(p Principal) order.Env {
	env := order.Env{Now: s.Now(), NewID: s.NewID, MaxDocumentSize: s.cfg.MaxDocumentBytes,
		TestApplication: p.Application.Environment == tenant.EnvironmentTest}
	if v := s.cfg.Verify; v != nil {
		env.Verify = &order.VerifyClient{Domain: v.Domain, ClientID: v.ClientID}
	}
	return env
}

// setTokenHashes gives new signatories the hash their derived token is looked up by.
func (s *Service) setTokenHashes(o *order.SignatureOrder) {
	for i := range o.Signatories {
		if o.Signatories[i].TokenHash == "" {
			o.Signatories[i].TokenHash = TokenHash(s.SignatoryToken(o.Signatories[i].ID))
		}
	}
}

// CreateOrder validates the draft, checks, encrypts and stores every document, then saves the order.
// On any failure nothing remains: no row, no blob.
func (s *Service) CreateOrder(ctx context.Context, p Principal, d order.Draft) (*order.SignatureOrder, error) {
	if err := requireWrite(p); err != nil {
		return nil, err
	}
	o, err := order.Build(d, p.Application.ID, s.env(p))
	if err != nil {
		return nil, err
	}
	s.setTokenHashes(o)
	if err := s.newAuditKey(ctx, o); err != nil {
		return nil, err
	}
	if err := s.validateWebhook(ctx, o.Webhook); err != nil {
		return nil, err
	}
	if o.Webhook, err = s.encryptWebhook(ctx, o.ApplicationID, o.ID, o.Webhook); err != nil {
		return nil, err
	}
	// What is stored: the uploads, or their rewrites when the intake repairs them or an option asks.
	stored := make([][]byte, len(d.Documents))
	for i := range d.Documents {
		var pages int
		withFields := o.HasFields(o.Documents[i].ID)
		if stored[i], pages, err = s.intakeDocument(ctx, d, i, withFields); err != nil {
			return nil, err
		}
		// Placements on a page the document lacks are refused now, not when someone signs.
		if err := CheckPlacementPages(o, o.Documents[i].ID, pages); err != nil {
			return nil, err
		}
		if withFields {
			if stored[i], err = s.createFields(ctx, o, &o.Documents[i], stored[i]); err != nil {
				return nil, err
			}
		}
		if d.Documents[i].SealsPageTemplate != nil {
			spec, err := s.intakeSealsPageTemplate(ctx, d, i)
			if err != nil {
				return nil, err
			}
			if err := o.SetSealsPageTemplate(o.Documents[i].ID, spec.Area, spec.Columns, spec.Rows); err != nil {
				return nil, err
			}
		}
	}
	// Every blob written so far, templates included, goes if a later write or the save fails.
	written := make([]order.DocumentVersion, 0, len(o.Documents))
	cleanup := func() { s.deleteBlobs(context.WithoutCancel(ctx), o.ID, written) }
	for i := range o.Documents {
		doc := &o.Documents[i]
		v, err := s.putVersion(ctx, o, doc, 0, stored[i])
		if err != nil {
			cleanup()
			return nil, err
		}
		written = append(written, v)
		doc.Versions = []order.DocumentVersion{v}
		recordStored(o, doc.ID, v, stored[i])
		if doc.SealsPageTemplate != nil {
			// Stored as given: the intake only checked it, and the sealer imports its page.
			t, err := s.putTemplate(ctx, o, doc, d.Documents[i].SealsPageTemplate.Data)
			if err != nil {
				cleanup()
				return nil, err
			}
			written = append(written, t)
			doc.SealsPageTemplate.Blob = &t
		}
	}
	if err := s.store.CreateOrder(ctx, o); err != nil {
		s.discardUncommitted(context.WithoutCancel(ctx), o.ID, written, err)
		return nil, fmt.Errorf("save order %s: %w", o.ID, err)
	}
	return o, nil
}

// Order returns the caller's order, or nil when there is none (or it is another application's).
func (s *Service) Order(ctx context.Context, p Principal, id string) (*order.SignatureOrder, error) {
	o, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load order %s: %w", id, err)
	}
	if o.ApplicationID != p.Application.ID {
		return nil, nil
	}
	return o, nil
}

// OrderOfSignatory returns the caller's order that has the signatory, or nil.
func (s *Service) OrderOfSignatory(ctx context.Context, p Principal, signatoryID string) (*order.SignatureOrder, error) {
	return s.orderOf(ctx, p, store.IndexSignatory, signatoryID)
}

// OrderOfDocument returns the caller's order that has the document, or nil.
func (s *Service) OrderOfDocument(ctx context.Context, p Principal, documentID string) (*order.SignatureOrder, error) {
	return s.orderOf(ctx, p, store.IndexDocument, documentID)
}

// orderOf returns the caller's order that holds the indexed key, or nil.
func (s *Service) orderOf(ctx context.Context, p Principal, kind store.IndexKind, key string) (*order.SignatureOrder, error) {
	id, err := s.store.FindOrderID(ctx, kind, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find order of %s %s: %w", kind, key, err)
	}
	return s.Order(ctx, p, id)
}

// OrderPage is a page of orders with its Relay cursors.
type OrderPage struct {
	Orders     []*order.SignatureOrder
	Cursors    []string
	TotalCount int
	HasNext    bool
	HasPrev    bool
}

// ListOrders pages through the caller's orders, newest first.
func (s *Service) ListOrders(ctx context.Context, p Principal, first *int, after *string, status *order.Status) (OrderPage, error) {
	limit := DefaultPageSize
	if first != nil {
		if *first < 1 || *first > MaxPageSize {
			return OrderPage{}, fault.Invalid("first", "must be between 1 and %d", MaxPageSize)
		}
		limit = *first
	}
	q := store.ListOrdersQuery{ApplicationID: p.Application.ID, Status: status, Limit: limit}
	if after != nil && *after != "" {
		c, err := decodeCursor(*after)
		if err != nil {
			return OrderPage{}, fault.Invalid("after", "is not a cursor returned by this API")
		}
		q.After = &c
	}
	page, err := s.store.ListOrders(ctx, q)
	if err != nil {
		return OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	out := OrderPage{Orders: page.Orders, TotalCount: page.TotalCount, HasNext: page.HasNext, HasPrev: q.After != nil}
	for _, o := range page.Orders {
		out.Cursors = append(out.Cursors, encodeCursor(store.OrderCursor{CreatedAt: o.CreatedAt, ID: o.ID}))
	}
	return out, nil
}

func encodeCursor(c store.OrderCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + ":" + c.ID))
}

func decodeCursor(s string) (store.OrderCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.OrderCursor{}, err
	}
	micros, id, ok := strings.Cut(string(raw), ":")
	if !ok || id == "" {
		return store.OrderCursor{}, errors.New("malformed cursor")
	}
	n, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return store.OrderCursor{}, err
	}
	return store.OrderCursor{CreatedAt: time.UnixMicro(n).UTC(), ID: id}, nil
}

// update runs fn on the caller's order inside the store's transaction.
func (s *Service) update(ctx context.Context, p Principal, orderID string, fn store.Updater) (*order.SignatureOrder, error) {
	return s.updateOwn(ctx, p, orderID, fault.NotFoundf("signatureOrderId: no signature order with id %q", orderID), fn)
}

// updateOwn is update answering notFound both when there is no such order and when it is another
// application's: the answer must not tell the two apart (it would say that the id exists).
func (s *Service) updateOwn(ctx context.Context, p Principal, orderID string, notFound *fault.Error, fn store.Updater) (*order.SignatureOrder, error) {
	if err := requireWrite(p); err != nil {
		return nil, err
	}
	o, err := s.store.UpdateOrder(ctx, orderID, func(o *order.SignatureOrder) error {
		if o.ApplicationID != p.Application.ID {
			return store.ErrNotFound
		}
		o.RecordingAt(s.Now())
		return fn(o)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		if _, ok := fault.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("update order %s: %w", orderID, err)
	}
	return o, nil
}

// AddSignatories adds signatories to an open order and returns the order and the new signatories' ids.
func (s *Service) AddSignatories(ctx context.Context, p Principal, orderID string, drafts []order.SignatoryDraft) (*order.SignatureOrder, []string, error) {
	var ids []string
	o, err := s.update(ctx, p, orderID, func(o *order.SignatureOrder) error {
		var err error
		ids, err = o.AddSignatories("signatories", drafts, s.env(p), false)
		s.setTokenHashes(o)
		return err
	})
	return o, ids, err
}

// ChangeSignatory changes an open signatory of the caller's order. Another application's signatory
// is answered like an unknown one, and a READ_ONLY key is refused before the id is looked up.
func (s *Service) ChangeSignatory(ctx context.Context, p Principal, signatoryID string, d order.SignatoryDraft) (*order.SignatureOrder, error) {
	if err := requireWrite(p); err != nil {
		return nil, err
	}
	notFound := fault.NotFoundf("signatoryId: no signatory with id %q", signatoryID)
	orderID, err := s.store.FindOrderID(ctx, store.IndexSignatory, signatoryID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("find order of signatory %s: %w", signatoryID, err)
	}
	return s.updateOwn(ctx, p, orderID, notFound, func(o *order.SignatureOrder) error { return o.ChangeSignatory(signatoryID, d) })
}

// DeleteSignatory removes a signatory who has not signed.
func (s *Service) DeleteSignatory(ctx context.Context, p Principal, orderID, signatoryID string) (*order.SignatureOrder, error) {
	return s.update(ctx, p, orderID, func(o *order.SignatureOrder) error { return o.DeleteSignatory(signatoryID) })
}

// ChangeOrder changes maxSignatories and/or the webhook of an open order.
func (s *Service) ChangeOrder(ctx context.Context, p Principal, orderID string, maxSignatories *int, webhook *order.Webhook) (*order.SignatureOrder, error) {
	if err := requireWrite(p); err != nil {
		return nil, err
	}
	if webhook != nil && webhook.ValidateConnectivity {
		// Only for an order of the caller's: the request goes out before the change is saved.
		o, err := s.Order(ctx, p, orderID)
		if err != nil {
			return nil, err
		}
		if o == nil {
			return nil, fault.NotFoundf("signatureOrderId: no signature order with id %q", orderID)
		}
		if err := s.validateWebhook(ctx, webhook); err != nil {
			return nil, err
		}
	}
	// Sealed before the transaction (an HSM call must not hold the order's lock), kept once the
	// domain has accepted the secret in clear.
	sealed, err := s.encryptWebhook(ctx, p.Application.ID, orderID, webhook)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, p, orderID, func(o *order.SignatureOrder) error {
		if err := o.Change(maxSignatories, webhook); err != nil {
			return err
		}
		if webhook != nil {
			o.Webhook = sealed
		}
		return nil
	})
}

// ExtendOrder moves an open order's expiry exactly days × 24 h later.
func (s *Service) ExtendOrder(ctx context.Context, p Principal, orderID string, days int) (*order.SignatureOrder, error) {
	return s.update(ctx, p, orderID, func(o *order.SignatureOrder) error { return o.Extend(days) })
}

// CancelOrder cancels an open order and deletes its documents at once.
func (s *Service) CancelOrder(ctx context.Context, p Principal, orderID string) (*order.SignatureOrder, error) {
	var dropped []order.DocumentVersion
	o, err := s.update(ctx, p, orderID, func(o *order.SignatureOrder) error {
		now := s.Now()
		if err := o.Cancel(now); err != nil {
			return err
		}
		dropped = o.DropDocuments(now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.deleteBlobs(ctx, o.ID, dropped)
	return o, nil
}

// CleanupOrder deletes the documents of an order that is no longer open. Calling it again succeeds.
func (s *Service) CleanupOrder(ctx context.Context, p Principal, orderID string) (*order.SignatureOrder, error) {
	var dropped []order.DocumentVersion
	o, err := s.update(ctx, p, orderID, func(o *order.SignatureOrder) error {
		if err := o.CheckCleanup(); err != nil {
			return err
		}
		dropped = o.DropDocuments(s.Now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.deleteBlobs(ctx, o.ID, dropped)
	return o, nil
}

// Closed is a closed order with the bytes of its documents as they were at closing, because without
// retention this answer is the integrator's last chance to read them.
type Closed struct {
	Order *order.SignatureOrder
	Bytes map[string]DocumentBytes // by document id
}

// DocumentBytes are a document's current and original bytes, and who signed it: the signatories
// whose signatures are the last ones in Current, oldest first.
type DocumentBytes struct {
	Current  []byte
	Original []byte
	SignedBy []string
}

// CloseOrder closes an open order. Without retainDays the documents are read for the answer and then
// deleted; with it they stay until the retention ends or cleanupSignatureOrder is called.
func (s *Service) CloseOrder(ctx context.Context, p Principal, orderID string, retainDays *int) (Closed, error) {
	if err := requireWrite(p); err != nil {
		return Closed{}, err
	}
	if err := order.CheckRetainDays(retainDays); err != nil {
		return Closed{}, err
	}
	// Read the documents before the status changes, outside the row lock; the update below refuses
	// to close if a version was added meanwhile, and we read again.
	var closed Closed
	err := s.writeVersions(ctx, orderID, "closing", func(bool) ([]order.DocumentVersion, error) {
		current, err := s.Order(ctx, p, orderID)
		if err != nil {
			return nil, err
		}
		if current == nil {
			return nil, fault.NotFoundf("signatureOrderId: no signature order with id %q", orderID)
		}
		if current.Status != order.StatusOpen {
			return nil, fault.Conflictf("signature order is %s: only OPEN orders can be closed", current.Status)
		}
		bytes, err := s.readAll(ctx, current)
		if err != nil {
			return nil, err
		}
		// Signed documents get their long-term validation data and a document timestamp; the new
		// versions are stored only when the documents are retained.
		finalized, err := s.finalizeDocuments(ctx, current, bytes, retainDays != nil)
		if err != nil {
			return nil, err
		}
		// Kept with the retained documents, at the close's time (certificate.go).
		closing := s.Now()
		cert, err := s.issueCertificate(ctx, p, current, bytes, closing, retainDays)
		if err != nil {
			s.deleteBlobs(context.WithoutCancel(ctx), orderID, versionsOf(finalized))
			return nil, err
		}
		var dropped []order.DocumentVersion
		o, err := s.update(ctx, p, orderID, func(o *order.SignatureOrder) error {
			if versionsDiffer(o, current) {
				return errVersionsMoved
			}
			now := closing
			if err := o.Close(now, retainDays); err != nil {
				return err
			}
			for _, v := range finalized {
				d := o.Document(v.documentID)
				d.Versions = append(d.Versions, v.version)
			}
			if cert != nil {
				if err := o.SetCertificate(cert.version, cert.sha256, now); err != nil {
					return err
				}
			}
			if retainDays == nil {
				dropped = o.DropDocuments(now)
			}
			return nil
		})
		if err != nil {
			return append(versionsOf(finalized), cert.versions()...), err
		}
		s.deleteBlobs(ctx, o.ID, dropped)
		closed = Closed{Order: o, Bytes: bytes}
		return nil, nil
	})
	return closed, err
}

var errVersionsMoved = errors.New("document versions changed")

// writeVersions runs an optimistic write of new document versions (a signature's seals, close's
// timestamps): attempt reads the order, produces the versions outside the row lock (sealing and
// timestamping are slow, and an HSM call must not hold a lock) and commits them with an update that
// fails with errVersionsMoved when another version landed meanwhile. The versions of a commit that
// failed are discarded, and a moved attempt is tried again, three times in all; what names the
// operation in the answer after that.
func (s *Service) writeVersions(ctx context.Context, orderID, what string, attempt func(first bool) ([]order.DocumentVersion, error)) error {
	for try := 0; try < 3; try++ {
		written, err := attempt(try == 0)
		if err == nil {
			return nil
		}
		if len(written) > 0 {
			s.discardUncommitted(context.WithoutCancel(ctx), orderID, written, err)
		}
		if !errors.Is(err, errVersionsMoved) {
			return err
		}
	}
	return fault.Retryablef("the order changed while %s; try again", what)
}

// DocumentFinalizer makes a signed PDF verifiable in the long term at close: validation data (DSS)
// and a document timestamp (PAdES B-LTA), as incremental updates.
type DocumentFinalizer interface {
	Finalize(ctx context.Context, pdf []byte) ([]byte, error)
}

// finalizeDocuments runs the finalizer on every signed document, replacing its current bytes in
// bytes; with store, each result is also stored as a new version (returned, not yet recorded).
func (s *Service) finalizeDocuments(ctx context.Context, o *order.SignatureOrder, bytes map[string]DocumentBytes, store bool) ([]sealedVersion, error) {
	if s.cfg.Finalizer == nil {
		return nil, nil
	}
	var out []sealedVersion
	for i := range o.Documents {
		d := &o.Documents[i]
		cur := d.Current()
		if cur == nil || cur.SignedBy == "" {
			continue // unsigned documents have nothing to timestamp
		}
		final, err := s.cfg.Finalizer.Finalize(ctx, bytes[d.ID].Current)
		if err != nil {
			s.log.ErrorContext(ctx, "finalize failed", "order", o.ID, "document", d.ID, "err", err)
			s.deleteBlobs(context.WithoutCancel(ctx), o.ID, versionsOf(out))
			if errors.Is(err, pki.ErrRevoked) {
				// Retrying cannot help: a validator would reject what the close produced. The
				// operator must replace the certificate; the order stays open meanwhile.
				return nil, fault.Conflictf("Document %s cannot be closed: a certificate of its signatures or timestamps is revoked; the order is still open (the service's operator must replace the certificate)", d.Title)
			}
			return nil, fault.Retryablef("Document %s could not be timestamped right now; the order is still open, please try again", d.Title)
		}
		b := bytes[d.ID]
		b.Current = final
		bytes[d.ID] = b
		if !store {
			continue
		}
		v, err := s.putVersion(ctx, o, d, cur.Number+1, final)
		if err != nil {
			s.deleteBlobs(context.WithoutCancel(ctx), o.ID, versionsOf(out))
			return nil, err
		}
		out = append(out, sealedVersion{documentID: d.ID, version: v})
	}
	return out, nil
}

func versionsDiffer(a, b *order.SignatureOrder) bool {
	if len(a.Documents) != len(b.Documents) {
		return true
	}
	for i := range a.Documents {
		if len(a.Documents[i].Versions) != len(b.Documents[i].Versions) {
			return true
		}
	}
	return false
}
