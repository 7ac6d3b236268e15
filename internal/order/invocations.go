package order

import "time"

// InvocationOutcome is how one attempt to deliver a webhook event ended.
type InvocationOutcome string

const (
	InvocationSuccess   InvocationOutcome = "success"    // HTTP 200
	InvocationHTTPError InvocationOutcome = "http_error" // any other status
	InvocationTimeout   InvocationOutcome = "timeout"    // no answer in time
	InvocationException InvocationOutcome = "exception"  // no HTTP answer at all (refused, DNS, TLS, blocked target)
)

// WebhookInvocation is one attempt to deliver an order's event, as the webhook logs answer it.
type WebhookInvocation struct {
	ID            string // the correlation id
	DeliveryID    string
	ApplicationID string
	OrderID       string
	Event         string
	URL           string
	RequestBody   string
	ResponseBody  *string
	StatusCode    *int
	Outcome       InvocationOutcome
	Exception     *string
	TimeoutMillis *int
	At            time.Time
	RetryingAt    *time.Time // when the delivery is tried again; nil when it is not
}
