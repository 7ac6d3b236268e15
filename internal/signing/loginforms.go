package signing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"esign/internal/envelope"
	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/store"
)

// The hosted page's document form and a SIGN-stage login: the values a signatory typed, and the
// signature they drew for an allOf provider that joins a login and a drawing, cannot travel
// through the identity provider's redirect (URLs end up in its logs and the browser history,
// cookies are bounded and readable on the device), so StartLogin keeps them on the server,
// encrypted like a kept answer, under a random id that only the sealed login state carries; the
// callback takes them once (TakeLoginForm) and signs with them.

// loginFormTTL is how long kept form values wait for their login: as long as its state is good.
const loginFormTTL = evidence.LoginTTL

// KeptLoginForm is what the signatory gave before a SIGN-stage login, kept for its callback.
type KeptLoginForm struct {
	// Documents are the values for the documents' own forms (sign's documents input).
	Documents []DocumentForm
	// Drawing is the signature drawn for an allOf provider's drawable member; nil for none.
	Drawing *DrawableInput
}

// loginFormRecord is what the ciphertext holds. Records sealed before drawings were kept hold
// documents only ({"documents": [...]}) and decode as a record without a drawing.
type loginFormRecord struct {
	Documents []DocumentForm      `json:"documents"`
	Drawing   *loginDrawingRecord `json:"drawing,omitempty"`
}

type loginDrawingRecord struct {
	Image []byte  `json:"image"` // PNG, base64 in the JSON
	Name  *string `json:"name,omitempty"`
}

func encodeLoginForm(kept KeptLoginForm) ([]byte, error) {
	rec := loginFormRecord{Documents: kept.Documents}
	if d := kept.Drawing; d != nil {
		rec.Drawing = &loginDrawingRecord{Image: d.Image, Name: d.Name}
	}
	return json.Marshal(rec)
}

func decodeLoginForm(plain []byte) (KeptLoginForm, error) {
	var rec loginFormRecord
	if err := json.Unmarshal(plain, &rec); err != nil {
		return KeptLoginForm{}, err
	}
	kept := KeptLoginForm{Documents: rec.Documents}
	if d := rec.Drawing; d != nil {
		kept.Drawing = &DrawableInput{Image: d.Image, Name: d.Name}
	}
	return kept, nil
}

// loginFormBinding binds the ciphertext to its order, signatory and id: a row moved to another
// signatory's or order's does not decrypt.
func loginFormBinding(orderID, signatoryID, id string) envelope.Binding {
	return envelope.Binding{ApplicationID: "login-form", OrderID: orderID, DocumentID: signatoryID + "/" + id}
}

// checkLoginForm applies sign's rules for the documents input that can be decided without the
// PDF (checkForms: the signatory's documents, form enabled, each once, order.MaxFormFields values
// in all) and the limits table's bounds for each field name and value, so nothing unbounded is
// stored. Whether each field takes its value is the document's to say when the callback signs.
func checkLoginForm(o *order.SignatureOrder, sig *order.Signatory, forms []DocumentForm, now time.Time) error {
	if len(forms) > order.MaxDocuments {
		return fault.Invalid("documents", "more than %d documents", order.MaxDocuments)
	}
	if _, err := checkForms(o, sig, forms, now); err != nil {
		return err
	}
	for i, f := range forms {
		for j, v := range f.Fields {
			// Named like sign's errors for the value, so the page puts it beside its input.
			field := fmt.Sprintf("documents[%d].form.fields[%d]", i, j)
			if err := order.CheckText(field, v.Field, order.MaxIdentifierLen, false); err != nil {
				return err
			}
			if err := order.CheckText(field, v.Value, order.MaxMessageLen, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkLoginDrawing applies sign's rules for a drawn signature (evidence.Drawable: a PNG within
// the limits, the provider's minimum size, its required name) before the signatory leaves for the
// identity provider. A login carries a drawing only for an allOf provider with a drawable member:
// the callback signs with the drawing and the login together, and nothing else takes a drawing.
func checkLoginDrawing(o *order.SignatureOrder, sig *order.Signatory, providerID string, d *DrawableInput) error {
	for _, p := range o.SignatoryProviders(sig) {
		if p.ID != providerID || p.Kind != order.ProviderAllOf {
			continue
		}
		for _, sub := range p.AllOf {
			if sub.Drawable != nil {
				_, err := evidence.Drawable(sub.Drawable, d.Image, d.Name)
				return err
			}
		}
	}
	return fault.Invalid("drawable", "a drawn signature goes with a login only for an allOf evidence provider with a drawable member")
}

// keepLoginForm stores kept, encrypted, under id for the order's signatory.
func (s *Service) keepLoginForm(ctx context.Context, orderID, signatoryID, id string, kept KeptLoginForm) error {
	plain, err := encodeLoginForm(kept)
	if err != nil {
		return fmt.Errorf("encode login form: %w", err)
	}
	sealed, err := s.encryptBytes(ctx, plain, loginFormBinding(orderID, signatoryID, id))
	if err != nil {
		return fmt.Errorf("encrypt login form: %w", err)
	}
	return s.store.PutLoginForm(ctx, store.LoginForm{ID: id, OrderID: orderID, SignatoryID: signatoryID, Data: sealed,
		ExpiresAt: s.Now().Add(loginFormTTL)})
}

// errLoginFormGone is the answer when the values typed before a login are no longer kept: signing
// without them would sign a form the signatory meant to fill, so the callback refuses instead.
func errLoginFormGone() error {
	return fault.Invalid("form", "the form values you typed or the signature you drew before logging in are no longer kept "+
		"(the login took longer than %d minutes, or it was completed already): open your signing link again, fill in the form and sign",
		int(loginFormTTL.Minutes()))
}

// TakeLoginForm gives back, once, what was kept when the login of state started (LoginStart.Form
// as sign's documents input, LoginStart.Drawing); the zero KeptLoginForm when it kept nothing.
// What expired or was taken already is refused (errLoginFormGone). The state must be the
// principal's.
func (s *Service) TakeLoginForm(ctx context.Context, sp SignatoryPrincipal, state string) (KeptLoginForm, error) {
	purpose, err := s.LoginState(state)
	if err != nil || purpose.Form == "" {
		return KeptLoginForm{}, err
	}
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return KeptLoginForm{}, err
	}
	if purpose.OrderID != o.ID || purpose.SignatoryID != sig.ID {
		return KeptLoginForm{}, fault.Invalid("state", "belongs to another signatory")
	}
	sealed, err := s.store.TakeLoginForm(ctx, o.ID, sig.ID, purpose.Form, s.Now())
	if errors.Is(err, store.ErrNotFound) {
		return KeptLoginForm{}, errLoginFormGone()
	}
	if err != nil {
		return KeptLoginForm{}, err
	}
	plain, err := s.decryptBytes(ctx, sealed, loginFormBinding(o.ID, sig.ID, purpose.Form))
	if err != nil {
		return KeptLoginForm{}, fmt.Errorf("decrypt login form: %w", err)
	}
	kept, err := decodeLoginForm(plain)
	if err != nil {
		return KeptLoginForm{}, fmt.Errorf("decode login form: %w", err)
	}
	return kept, nil
}

// PurgeLoginForms deletes the kept form values whose login could no longer complete (the sweeper).
func (s *Service) PurgeLoginForms(ctx context.Context, now time.Time) (SweepReport, error) {
	n, err := s.store.PurgeLoginForms(ctx, now)
	if err != nil {
		return SweepReport{}, fmt.Errorf("purge login forms: %w", err)
	}
	return SweepReport{LoginFormsPurged: n}, nil
}
