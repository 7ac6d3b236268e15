package signing

import (
	"context"
	"fmt"

	"esign/internal/store"
)

// ReplaceLoginForm puts plain, sealed as keepLoginForm seals a record, in place of the record kept
// for the login of state: a record of an earlier shape, as one written before a deploy would be.
func (s *Service) ReplaceLoginForm(ctx context.Context, sp SignatoryPrincipal, state string, plain []byte) error {
	purpose, err := s.LoginState(state)
	if err != nil {
		return err
	}
	if purpose.Form == "" {
		return fmt.Errorf("the login of this state kept nothing")
	}
	if _, err := s.store.TakeLoginForm(ctx, sp.OrderID, sp.SignatoryID, purpose.Form, s.Now()); err != nil {
		return err
	}
	sealed, err := s.encryptBytes(ctx, plain, loginFormBinding(sp.OrderID, sp.SignatoryID, purpose.Form))
	if err != nil {
		return err
	}
	return s.store.PutLoginForm(ctx, store.LoginForm{ID: purpose.Form, OrderID: sp.OrderID, SignatoryID: sp.SignatoryID,
		Data: sealed, ExpiresAt: s.Now().Add(loginFormTTL)})
}
