// Package store defines how signature orders, applications and API keys are persisted. Backends live in
// subpackages (sqlite for the embedded default, postgres for production) and all of them pass the one
// conformance suite in storetest.
package store

import (
	"context"
	"errors"
	"time"

	"esign/internal/fault"
	"esign/internal/idempotency"
	"esign/internal/order"
	"esign/internal/tenant"
)

// Sentinel errors every backend maps its driver errors to.
var (
	// ErrNotFound: no row with that key.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a row with that unique key already exists.
	ErrConflict = errors.New("already exists")
	// ErrUnavailable: the database could not be reached or dropped the connection (a restart, a
	// failover); nothing was committed by the failed call and retrying may succeed.
	ErrUnavailable error = &fault.Unavailable{Dependency: "the database"}
	// ErrDocumentsDeleted: FinishIdempotent was given an answer holding the documents of an order
	// whose documents are deleted (or an order that is gone); nothing was stored.
	ErrDocumentsDeleted = errors.New("the documents of the order are deleted")
)

// IndexKind names a secondary key that leads to an order.
type IndexKind string

const (
	IndexSignatory      IndexKind = "signatory"       // signatory id
	IndexDocument       IndexKind = "document"        // document id
	IndexSignatoryToken IndexKind = "signatory_token" // hex SHA-256 of a signatory token
)

// OrderCursor is the position after which a page of orders starts (orders are listed newest first).
type OrderCursor struct {
	CreatedAt time.Time
	ID        string
}

// ListOrdersQuery selects one page of an application's orders.
type ListOrdersQuery struct {
	ApplicationID string
	Status        *order.Status // nil: any status
	After         *OrderCursor  // nil: from the newest
	Limit         int           // > 0
}

// OrderPage is one page of orders, newest first.
type OrderPage struct {
	Orders     []*order.SignatureOrder
	TotalCount int  // all orders matching the query's application and status, ignoring After and Limit
	HasNext    bool // more orders follow the last one returned
}

// WebhookDelivery is one event on its way to a receiver: a row of the outbox.
type WebhookDelivery struct {
	ID            string // also the delivery id header the receiver gets
	ApplicationID string
	OrderID       string
	Event         string
	URL           string
	Secret        []byte // as the order holds it (sealed by package signing; opaque here); nil: no secret
	Body          []byte
	CreatedAt     time.Time
	Attempt       int // the number of the attempt a claim hands out: 1 for the first
}

// WebhookClaim is what Store.ClaimWebhookDeliveries leases.
type WebhookClaim struct {
	Now   time.Time
	Lease time.Duration
	Limit int
	// SkipApplications are applications whose deliveries the claim leaves where they are: the
	// claiming worker has as many of theirs as it can start soon (webhook.Config.PerApplication),
	// so the claim goes to other applications' deliveries, however many of theirs are due first.
	// A handful of ids; nil skips none.
	SkipApplications []string
}

// WebhookLogQuery selects invocations of an application, optionally of one order, with At in
// [From, To), oldest first.
type WebhookLogQuery struct {
	ApplicationID string
	OrderID       string // "" for every order
	From, To      time.Time
	Succeeded     *bool // nil: any outcome
	Limit         int   // > 0
}

// IdempotencyClaim is a request that carries an Idempotency-Key.
type IdempotencyClaim struct {
	Scope       string // whose keys: an application or a signatory
	Key         string
	RequestHash []byte
	Now         time.Time
	ExpiresAt   time.Time // when the key may be used afresh
	StaleBefore time.Time // a run started before this without an answer is taken over (its process died)
}

// KeptAnswer is the answer of a started request, to keep under its key.
type KeptAnswer struct {
	Scope, Key string
	Response   []byte
	// OrderIDs are the orders whose document contents (bytes, signatures read from them) Response
	// holds. The answer is kept only while each of them still holds its documents, and is deleted
	// in the transaction that deletes them: a kept answer must not outlive the documents.
	OrderIDs []string
}

// LoginForm is the document form values a signatory typed on the hosted page before a SIGN-stage
// login, kept until the login's callback takes them. Data is sealed by package signing (opaque here).
type LoginForm struct {
	ID          string // random; the login's state carries it
	OrderID     string
	SignatoryID string
	Data        []byte
	ExpiresAt   time.Time
}

// Updater changes an order in place. Returning an error aborts the update and changes nothing.
type Updater func(o *order.SignatureOrder) error

// Store persists applications, API keys and signature orders.
//
// An order is saved as a whole (the aggregate). The backend keeps, in the same transaction, an index
// from every signatory id, document id and signatory token hash of the order to the order id, so that
// FindOrderID answers for the order's current parts only.
type Store interface {
	// CreateApplication returns ErrConflict when the id or the name is taken.
	CreateApplication(ctx context.Context, app tenant.Application) error
	// GetApplication and GetApplicationByName return ErrNotFound when there is none.
	GetApplication(ctx context.Context, id string) (tenant.Application, error)
	GetApplicationByName(ctx context.Context, name string) (tenant.Application, error)

	// CreateAPIKey returns ErrConflict when the id or client id is taken.
	CreateAPIKey(ctx context.Context, key tenant.APIKey) error
	// GetAPIKeyByClientID returns ErrNotFound when there is none.
	GetAPIKeyByClientID(ctx context.Context, clientID string) (tenant.APIKey, error)
	// ListAPIKeys returns an application's keys, oldest first.
	ListAPIKeys(ctx context.Context, applicationID string) ([]tenant.APIKey, error)

	// Tenants, their keys, and what a tenant does to its applications' keys (tenants.go in each backend).
	// CreateTenant returns ErrConflict when the id is taken.
	CreateTenant(ctx context.Context, t tenant.Tenant) error
	// GetTenant returns ErrNotFound when there is none.
	GetTenant(ctx context.Context, id string) (tenant.Tenant, error)
	// CreateTenantKey returns ErrConflict when the id or client id is taken, ErrNotFound when the tenant is unknown.
	CreateTenantKey(ctx context.Context, key tenant.TenantKey) error
	// GetTenantKeyByClientID returns ErrNotFound when there is none.
	GetTenantKeyByClientID(ctx context.Context, clientID string) (tenant.TenantKey, error)
	// ListTenantApplications returns the tenant's applications, oldest first (created_at, then id).
	ListTenantApplications(ctx context.Context, tenantID string) ([]tenant.Application, error)
	// AttachApplication puts an application without a tenant into one; attaching it again to the same
	// tenant changes nothing. ErrNotFound when either is unknown, ErrConflict when the application is
	// in another tenant.
	AttachApplication(ctx context.Context, applicationID, tenantID string) error
	// SetAPIKeySecret replaces the secret hash of the application's key and returns the key as it is
	// now; ErrNotFound when the application has no key with that id.
	SetAPIKeySecret(ctx context.Context, applicationID, keyID string, secretHash []byte) (tenant.APIKey, error)
	// DeleteAPIKey deletes the application's key; ErrNotFound when the application has no key with that id.
	DeleteAPIKey(ctx context.Context, applicationID, keyID string) error

	// CreateOrder saves a new order and its index; ErrConflict when the order id or any indexed key is taken.
	CreateOrder(ctx context.Context, o *order.SignatureOrder) error
	// GetOrder returns ErrNotFound when there is none.
	GetOrder(ctx context.Context, id string) (*order.SignatureOrder, error)
	// UpdateOrder loads the order, locks it against concurrent updates, applies fn and saves the result
	// (and its index) in one transaction. It returns the saved order; ErrNotFound when there is none, or
	// fn's error unchanged (wrapped errors stay matchable with errors.Is/As).
	UpdateOrder(ctx context.Context, id string, fn Updater) (*order.SignatureOrder, error)
	// FindOrderID returns the id of the order an indexed key belongs to; ErrNotFound when none.
	FindOrderID(ctx context.Context, kind IndexKind, key string) (string, error)
	// ListOrders returns one page of an application's orders, newest first (created_at, then id).
	ListOrders(ctx context.Context, q ListOrdersQuery) (OrderPage, error)

	// SweepDue claims up to limit orders whose SweepAt is at or before now, earliest first, skipping
	// orders another transaction holds; it applies fn to each and saves them (SweepAt recomputed), all
	// in one transaction, and returns the saved orders. An order for which fn fails is left unchanged
	// and its error is returned joined with the others', beside the saved orders.
	SweepDue(ctx context.Context, now time.Time, limit int, fn Updater) ([]*order.SignatureOrder, error)

	// PurgeOrders deletes up to limit orders (their index and webhook rows too) whose RetiredAt is
	// before retiredBefore, and says how many it deleted.
	PurgeOrders(ctx context.Context, retiredBefore time.Time, limit int) (int, error)

	// CreateOrder, UpdateOrder and SweepDue also write the events the order raised (order.Events) to
	// the webhook outbox, in the same transaction, each due at once.

	// CreateOrder, UpdateOrder and SweepDue also append the entries the order recorded
	// (order.AuditEntries) to its audit trail, in the same transaction, each sealed to the order's
	// audit key (SealAudit; an order without one records none) and numbered after the order's last
	// entry. RecordWebhookInvocation appends the attempt's entry (order.WebhookAuditEntry) to the
	// trail of the order when it still exists. PurgeOrders deletes the trail with the order.

	// ListAuditEntries returns up to limit (> 0) entries of the order's trail with a Seq after
	// afterSeq, by Seq; none for an order without entries or without a row.
	ListAuditEntries(ctx context.Context, orderID string, afterSeq int64, limit int) ([]SealedAuditEntry, error)

	// ClaimWebhookDeliveries leases up to c.Limit deliveries due at c.Now, earliest due first, of
	// applications not in c.SkipApplications: they are due again only after c.Lease, so another
	// worker retries one whose worker died. Attempt is counted up. Deliveries another claim holds
	// are skipped, not waited for. The result is ordered by CreatedAt.
	ClaimWebhookDeliveries(ctx context.Context, c WebhookClaim) ([]WebhookDelivery, error)
	// RecordWebhookInvocation logs an attempt and sets when its delivery is due next (inv.RetryingAt;
	// nil: never again), in one transaction.
	RecordWebhookInvocation(ctx context.Context, inv order.WebhookInvocation) error
	// EnqueueWebhook adds a delivery due at due (retrySignatureOrderWebhook).
	EnqueueWebhook(ctx context.Context, d WebhookDelivery, due time.Time) error
	// GetWebhookDelivery returns ErrNotFound when there is none.
	GetWebhookDelivery(ctx context.Context, id string) (WebhookDelivery, error)
	// ListWebhookInvocations answers the webhook logs.
	ListWebhookInvocations(ctx context.Context, q WebhookLogQuery) ([]order.WebhookInvocation, error)

	// For sealing webhook secrets stored before they were sealed (signing.EncryptStoredWebhookSecrets):
	// ListWebhookSecrets returns up to limit deliveries that carry a secret, with an id after after,
	// by id; only ID, ApplicationID, OrderID and Secret are set.
	ListWebhookSecrets(ctx context.Context, after string, limit int) ([]WebhookDelivery, error)
	// SetWebhookSecret replaces a delivery's secret when it is still old, and says whether it did.
	SetWebhookSecret(ctx context.Context, id string, old, secret []byte) (bool, error)
	// ListOrdersWithWebhookSecret returns up to limit ids of orders (of every application) whose
	// webhook has a secret, after after, by id.
	ListOrdersWithWebhookSecret(ctx context.Context, after string, limit int) ([]string, error)

	// BeginIdempotent records a request under its key, or says why it must not run (with the stored
	// answer for idempotency.Replay).
	BeginIdempotent(ctx context.Context, c IdempotencyClaim) (idempotency.State, []byte, error)
	// FinishIdempotent stores the answer of a started request, in one transaction with a check
	// that every order in a.OrderIDs still holds its documents (ErrDocumentsDeleted, storing
	// nothing, when one does not). UpdateOrder and SweepDue delete the answers that name an order
	// when they drop its documents (Applied.DocumentsDropped), so no kept answer holds deleted
	// documents.
	FinishIdempotent(ctx context.Context, a KeptAnswer) error
	// AbandonIdempotent forgets a started request (it failed in a way worth retrying).
	AbandonIdempotent(ctx context.Context, scope, key string) error
	// PurgeIdempotencyKeys deletes keys that expired before now and says how many.
	PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int, error)

	// PutLoginForm keeps form values for a login in progress; ErrNotFound when the order does not
	// exist, ErrConflict when the id is taken. The row is deleted with its order.
	PutLoginForm(ctx context.Context, f LoginForm) error
	// TakeLoginForm deletes the form values kept under id for that order and signatory and returns
	// their Data, in one statement, so two takes never both get them. ErrNotFound when there are
	// none for that order and signatory, or when they expired at or before now (then deleted too).
	TakeLoginForm(ctx context.Context, orderID, signatoryID, id string, now time.Time) ([]byte, error)
	// PurgeLoginForms deletes form values that expired at or before now and says how many.
	PurgeLoginForms(ctx context.Context, now time.Time) (int, error)

	// CreateBatchSignatory saves a batch signatory with its items (in their order); ErrConflict when
	// the id or the token hash is taken, ErrNotFound when its application does not exist.
	CreateBatchSignatory(ctx context.Context, b order.BatchSignatory) error
	// GetBatchSignatory returns ErrNotFound when there is none.
	GetBatchSignatory(ctx context.Context, id string) (order.BatchSignatory, error)
	// FindBatchSignatoryByTokenHash returns the batch whose token has that hash; ErrNotFound when none.
	FindBatchSignatoryByTokenHash(ctx context.Context, tokenHash string) (order.BatchSignatory, error)

	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
	// Close releases the backend's resources.
	Close() error
}
