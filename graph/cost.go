package graph

import (
	"context"
	"encoding/base64"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"esign/graph/model"
	"esign/internal/fault"
	"esign/internal/limits"
	"esign/internal/order"
	"esign/internal/signing"
)

// Upper bounds of the lists the schema returns, for the cost estimate: the domain's maxima where it
// has them (order.Limits); for lists read from outside (JWT claims, a PDF's form fields, validation
// messages) an assumption, smallList, that the per-response limits back up at run time.
const (
	signatoriesPerOrder = order.MaxSignatoriesHardLimit // maxSignatories is at most this
	documentsPerOrder   = order.MaxDocuments
	providersPerOrder   = order.MaxEvidenceProviders
	allOfProviders      = order.MaxAllOfProviders
	listItems           = order.MaxListItems // acrValues, audiences
	webhookLogsPerPage  = 1000               // signing.WebhookLogs answers at most 1,000
	smallList           = 10                 // claims, validation errors: assumption
)

// costModel prices an operation before it runs. Every selected field costs 1, and a list field's
// selection costs its bound times the cost of one element, so aliases, fragments used twice and
// nested lists all multiply as the answer would. Separately it counts how many times the answer can
// hold the bytes of one document (blob, originalBlob): that times the largest document is the
// answer's worst case in document bytes, checked against the response byte budget.
type costModel struct {
	schema *ast.Schema
	bounds map[string]int // "Type.field" of list (or connection) fields
}

func newCostModel(schema *ast.Schema, timezones int) *costModel {
	b := map[string]int{
		"Query.timezones":                                  timezones,
		"SignatureOrder.signatories":                       signatoriesPerOrder,
		"AddSignatoriesOutput.signatories":                 signatoriesPerOrder,
		"BatchSignatory.items":                             order.MaxBatchItems,
		"SignatureOrder.documents":                         documentsPerOrder,
		"Signatory.documents":                              documentsPerOrder,
		"SignatoryViewer.documents":                        documentsPerOrder,
		"BatchSignatoryViewer.documents":                   documentsPerOrder,
		"SignatoryViewerDownload.documents":                documentsPerOrder,
		"SignatoryDocumentConnection.edges":                1, // priced on the connection field above
		"SignatureOrderConnection.edges":                   1, // priced by first on signatureOrders
		"Document.signatures":                              signatoriesPerOrder,
		"PdfDocument.signatures":                           signatoriesPerOrder,
		"XmlDocument.signatures":                           signatoriesPerOrder,
		"CompositeSignature.signatures":                    allOfProviders, // one per member of an allOf provider
		"SignatureOrder.evidenceProviders":                 providersPerOrder,
		"Signatory.evidenceProviders":                      providersPerOrder,
		"SignatoryViewer.evidenceProviders":                providersPerOrder,
		"BatchSignatoryViewer.evidenceProviders":           providersPerOrder,
		"UnvalidatedSignatoryViewer.evidenceProviders":     providersPerOrder,
		"AllOfSignatureEvidenceProvider.providers":         allOfProviders,
		"Application.webhookLogs":                          webhookLogsPerPage,
		"SignatureOrderWebhook.logs":                       webhookLogsPerPage,
		"Tenant.webhookLogs":                               webhookLogsPerPage,
		"Application.apiKeys":                              smallList,
		"CriiptoVerifySignatureEvidenceProvider.acrValues": listItems,
		"CriiptoVerifySignatureEvidenceProvider.audiences": listItems,
		"OidcJWTSignatureEvidenceProvider.acrValues":       listItems,
		"JWTSignature.claims":                              smallList,
		"NorwegianBankIdSignature.claims":                  smallList,
		"PdfDocumentForm.fields":                           order.MaxFormFields, // signing.FormFields lists no more
		"ValidateDocumentOutput.errors":                    smallList,
		"Tenant.applications":                              1, // not implemented: always an error
		"UserViewer.tenants":                               1, // never returned
		"SignatureOrder.auditTrail":                        signing.MaxAuditPage,
		"SignatureOrderAuditEntry.details":                 order.AuditMaxDetails,
		"SignatureOrderDeletionReceipt.documents":          documentsPerOrder,
		"SignatureOrderDeletionReceiptDocument.versions":   signatoriesPerOrder + 2, // the original, a seal each, the close's
	}
	return &costModel{schema: schema, bounds: b}
}

// documentLists enumerate distinct documents: below them a blob is one document's bytes once, so
// they do not multiply the byte estimate (the run-time byte budget bounds how many documents there are).
var documentLists = map[string]bool{
	"SignatureOrder.documents": true, "Signatory.documents": true, "SignatoryViewer.documents": true,
	"BatchSignatoryViewer.documents": true, "SignatoryViewerDownload.documents": true,
}

// opCost is the estimate of one operation.
type opCost struct {
	Complexity     int64 // fields the answer can hold at most
	Fields         int   // field selections in the document, fragments expanded, aliases included
	DocumentCopies int64 // how many times the answer can hold one document's bytes
}

// costCap keeps the arithmetic far from overflow; any estimate this large is refused anyway.
const costCap = int64(1) << 50

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > costCap/b {
		return costCap
	}
	return a * b
}

func satAdd(a, b int64) int64 { return min(a+b, costCap) }

// estimate prices op with the given variables.
func (m *costModel) estimate(op *ast.OperationDefinition, fragments ast.FragmentDefinitionList, vars map[string]any) opCost {
	w := costWalk{m: m, fragments: fragments, vars: vars}
	c, k := w.set(op.SelectionSet, 1, 0)
	return opCost{Complexity: c, Fields: w.fields, DocumentCopies: k}
}

type costWalk struct {
	m         *costModel
	fragments ast.FragmentDefinitionList
	vars      map[string]any
	fields    int
	intro     *introspectionWalk // made on the first introspection field
}

// set prices a selection set and counts the document copies below it; repeat is how many times the
// set can appear per document. Fragments on different object types of an abstract field cannot both
// apply to one object, so the most expensive of them counts; fragments on interfaces can overlap
// anything and are added. Fields repeated in two fragments are counted twice: an over-estimate,
// never an under-estimate.
func (w *costWalk) set(set ast.SelectionSet, repeat int64, depth int) (cost, copies int64) {
	if depth > 64 { // validation rejects fragment cycles; this only bounds the walk
		return costCap, costCap
	}
	type branch struct{ cost, copies int64 }
	var byObject map[string]branch // made by the first fragment on an object type: most sets have none
	addFragment := func(condition string, sub ast.SelectionSet) {
		c, k := w.set(sub, repeat, depth+1)
		cond := w.m.schema.Types[condition]
		if cond == nil || cond.Kind != ast.Object {
			cost, copies = satAdd(cost, c), satAdd(copies, k)
			return
		}
		if byObject == nil {
			byObject = map[string]branch{}
		}
		b := byObject[cond.Name]
		byObject[cond.Name] = branch{satAdd(b.cost, c), satAdd(b.copies, k)}
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			if s.Name == "__schema" || s.Name == "__type" {
				w.fields += w.countFields(s.SelectionSet, depth+1)
				cost = satAdd(cost, satAdd(1, w.introspection(s)))
				continue
			}
			key := fieldKey(s)
			n := w.bound(s, key)
			childRepeat := satMul(repeat, n)
			if documentLists[key] {
				childRepeat = repeat
			}
			if s.Name == "blob" || s.Name == "originalBlob" {
				copies = satAdd(copies, repeat)
			}
			c, k := w.set(s.SelectionSet, childRepeat, depth+1)
			if n > 1 || (s.Definition != nil && s.Definition.Type.Elem != nil) {
				c = max(c, 1) // a list of scalars still answers one value per element
			}
			cost = satAdd(cost, satAdd(1, satMul(n, c)))
			copies = satAdd(copies, k)
		case *ast.InlineFragment:
			addFragment(s.TypeCondition, s.SelectionSet)
		case *ast.FragmentSpread:
			if f := w.fragments.ForName(s.Name); f != nil {
				addFragment(f.TypeCondition, f.SelectionSet)
			}
		}
	}
	var most branch
	for _, b := range byObject {
		most = branch{max(most.cost, b.cost), max(most.copies, b.copies)}
	}
	return satAdd(cost, most.cost), satAdd(copies, most.copies)
}

// introspection prices __schema or __type exactly over the schema (see introspectionWalk).
func (w *costWalk) introspection(f *ast.Field) int64 {
	if w.intro == nil {
		w.intro = &introspectionWalk{schema: w.m.schema, fragments: w.fragments, memo: map[introKey]int64{},
			flat: map[*ast.SelectionSet][]*ast.Field{}}
	}
	if f.Name == "__schema" {
		return w.intro.schemaCost(&f.SelectionSet)
	}
	if name, ok := f.ArgumentMap(w.vars)["name"].(string); ok {
		if d := w.m.schema.Types[name]; d != nil {
			return w.intro.namedType(&f.SelectionSet, d)
		}
		return 0 // __type of an unknown name answers null
	}
	return w.intro.maxType(&f.SelectionSet)
}

// countFields counts the field selections below an introspection field, fragments expanded, for the
// field limit (the cost walk of introspection does not pass through set).
func (w *costWalk) countFields(set ast.SelectionSet, depth int) int {
	if depth > 64 {
		return 1 << 20
	}
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n += 1 + w.countFields(s.SelectionSet, depth+1)
		case *ast.InlineFragment:
			n += w.countFields(s.SelectionSet, depth+1)
		case *ast.FragmentSpread:
			if f := w.fragments.ForName(s.Name); f != nil {
				n += w.countFields(f.SelectionSet, depth+1)
			}
		}
	}
	return n
}

func fieldKey(f *ast.Field) string {
	if f.ObjectDefinition == nil {
		return f.Name
	}
	return f.ObjectDefinition.Name + "." + f.Name
}

// bound is how many elements field f can return: first (signatureOrders), the table,
// unknownListBound for a list the table lacks, 1 for a field that is no list. (Introspection lists
// are priced over the schema itself, by introspectionWalk.)
func (w *costWalk) bound(f *ast.Field, key string) int64 {
	if key == "Application.signatureOrders" {
		n := signing.DefaultPageSize
		if v, ok := f.ArgumentMap(w.vars)["first"]; ok && v != nil {
			if i, err := graphql.UnmarshalInt(v); err == nil { // variables hold json.Number, literals int64
				n = min(max(i, 1), signing.MaxPageSize) // the service refuses first outside this range
			}
		}
		return int64(n)
	}
	if n, ok := w.m.bounds[key]; ok {
		return int64(n)
	}
	if f.Definition != nil && f.Definition.Type.Elem != nil {
		return unknownListBound
	}
	return 1
}

// unknownListBound prices a list field the table forgot (a test keeps the table complete) as a large
// one.
const unknownListBound = 1000

// admission is which budget this request gets (with or without credentials, whose concurrency
// slots) and what it has spent of it; it lives in the request context from ServeHTTP on.
type admission struct {
	authenticated bool
	appKey        string       // the key of the per-application concurrency limit
	heavy         bool         // runs under the per-application concurrency limit (see admit)
	responseBytes atomic.Int64 // document bytes written into the answer so far (base64)
}

type admissionKey struct{}

func withAdmission(ctx context.Context, a *admission) context.Context {
	return context.WithValue(ctx, admissionKey{}, a)
}

func admissionOf(ctx context.Context) *admission {
	a, _ := ctx.Value(admissionKey{}).(*admission)
	return a
}

// costLimit is the extension that refuses an operation over its budget before it runs (in place of
// gqlgen's FixedComplexityLimit, which prices every list as one element), and, as field middleware
// (countResponseBytes), holds the answer to the response byte budget while it runs. The anonymous
// limits apply to a request without valid credentials: it can only read timezones, introspect and
// learn it is anonymous.
type costLimit struct {
	model  *costModel
	limits limits.GraphQL // with defaults applied
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = costLimit{}

func (costLimit) ExtensionName() string                   { return "CostLimit" }
func (costLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (c costLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	a := admissionOf(ctx)
	if a == nil { // a handler built without ServeHTTP (tests of the executor alone): full budget
		a = &admission{authenticated: true}
	}
	cost := c.model.estimate(oc.Operation, oc.Doc.Fragments, oc.Variables)
	if !a.authenticated {
		if err := c.check(cost, c.limits.MaxFieldsAnonymous, int64(c.limits.MaxComplexityAnonymous), " without credentials"); err != nil {
			// Past the anonymous budget only credentials would help, and clients (the SDK among them)
			// match the contract's exact "Unauthorized access"; the limit is named beside it.
			return &gqlerror.Error{Message: fault.Unauthorized().Message,
				Extensions: map[string]any{"code": string(fault.CodeUnauthorized), "limit": err.Message}}
		}
	}
	if err := c.check(cost, c.limits.MaxFields, int64(c.limits.MaxComplexity), ""); err != nil {
		return err
	}
	if est := satMul(cost.DocumentCopies, int64(base64.StdEncoding.EncodedLen(c.limits.MaxDocumentBytes))); est > c.limits.MaxResponseBytes {
		return gqlerror.Errorf("query can return document bytes %d times per document (aliases and lists multiply), up to %d bytes, more than the response bytes limit of %d",
			cost.DocumentCopies, est, c.limits.MaxResponseBytes)
	}
	a.heavy = oc.Operation.Operation == ast.Query && (cost.Complexity >= int64(c.limits.HeavyComplexity) || cost.DocumentCopies > 0)
	return nil
}

func (c costLimit) check(cost opCost, maxFields int, maxComplexity int64, who string) *gqlerror.Error {
	if cost.Fields > maxFields {
		return gqlerror.Errorf("query selects %d fields (aliases and fragments counted each time), more than the field limit of %d%s",
			cost.Fields, maxFields, who)
	}
	if cost.Complexity > maxComplexity {
		return gqlerror.Errorf("query complexity is %d (each field 1, a list field times its largest size), more than the complexity limit of %d%s",
			cost.Complexity, maxComplexity, who)
	}
	return nil
}

// errResponseBytes answers a blob past the response byte budget: the estimate assumed few documents,
// and the order has more, or larger ones, than the budget holds.
func errResponseBytes(limit int64) error {
	return fault.Invalid("",
		"the answer would hold more than the response bytes limit of %d bytes of documents; ask for fewer documents per request (document(id) one at a time)", limit)
}

// countResponseBytes is field middleware: every blob resolved is charged, in its base64 length,
// against the request's response byte budget, and a blob past it is answered as an error instead of
// bytes. The bytes of one document are read once per request (rememberBytes), so what the budget
// protects is the answer, which holds one copy per selection.
func (c costLimit) countResponseBytes(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil {
		return res, err
	}
	b, ok := res.(model.Blob)
	if !ok {
		return res, nil
	}
	a := admissionOf(ctx)
	if a == nil { // a handler built without ServeHTTP: no budget
		return res, nil
	}
	if a.responseBytes.Add(int64(base64.StdEncoding.EncodedLen(len(b)))) > c.limits.MaxResponseBytes {
		return nil, errResponseBytes(c.limits.MaxResponseBytes)
	}
	return res, nil
}

// loadedOrder finds the order with the given id among the objects this field's ancestors already
// resolved in this request, or nil. A back-edge (a signatory's signatureOrder) below that order then
// answers from it instead of loading the order once per signatory: the fan-out
// signatureOrder{signatories{signatureOrder{…}}} stays one load, whatever the nesting.
func loadedOrder(ctx context.Context, id string) *model.SignatureOrder {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if o, ok := fc.Result.(*model.SignatureOrder); ok && o != nil && o.ID == id {
			return o
		}
	}
	return nil
}
