package graph

import (
	"context"
	"fmt"

	"esign/graph/model"
	"esign/internal/fault"
	"esign/internal/signing"
	"esign/internal/tenant"
)

type tenantCallerKey struct{}

// WithTenantCaller marks the request as sent with a tenant key. It is kept apart from Caller.App on
// purpose: caller() never sees it, so every application operation answers a tenant key as it answers
// no credentials ("Unauthorized access"), and tenantCaller never sees an application key.
func WithTenantCaller(ctx context.Context, tp signing.TenantPrincipal) context.Context {
	return context.WithValue(ctx, tenantCallerKey{}, &tp)
}

// tenantCaller returns the tenant of a valid tenant key, or "Unauthorized access" for anyone else
// (an application key, a signatory token, no or bad credentials).
func tenantCaller(ctx context.Context) (signing.TenantPrincipal, error) {
	if tp, ok := asTenant(ctx); ok {
		return tp, nil
	}
	if st := state(ctx); st != nil && st.AuthErr != nil {
		return signing.TenantPrincipal{}, st.AuthErr
	}
	return signing.TenantPrincipal{}, fault.Unauthorized()
}

// asTenant reports whether the request was sent with a valid tenant key, for fields both kinds of
// caller may ask (application, Application.apiKeys, ...).
func asTenant(ctx context.Context) (signing.TenantPrincipal, bool) {
	tp, ok := ctx.Value(tenantCallerKey{}).(*signing.TenantPrincipal)
	if !ok || tp == nil {
		return signing.TenantPrincipal{}, false
	}
	return *tp, true
}

func applicationModel(app tenant.Application) *model.Application {
	return &model.Application{ID: app.ID, Name: app.Name}
}

func tenantModel(t tenant.Tenant) *model.Tenant {
	return &model.Tenant{ID: t.ID}
}

func apiKeyModel(k tenant.APIKey, secret *string) *model.ApplicationAPIKey {
	return &model.ApplicationAPIKey{ID: k.ID, ClientID: k.ClientID, ClientSecret: secret,
		Mode: model.ApplicationAPIKeyMode(k.Mode), Note: k.Note}
}

func issuedKeyModel(k signing.IssuedKey) *model.ApplicationAPIKey {
	secret := k.ClientSecret
	return apiKeyModel(k.Key, &secret)
}

func (r *Resolver) createApplication(ctx context.Context, input model.CreateApplicationInput) (*model.CreateApplicationOutput, error) {
	tp, err := tenantCaller(ctx)
	if err != nil {
		return nil, err
	}
	// input.applicationId is accepted and not used: this service makes its own (opaque) ids.
	app, key, err := r.Service.CreateApplication(ctx, tp, signing.NewApplication{TenantID: input.TenantID, Name: input.Name,
		Environment: tenant.Environment(input.VerifyApplicationEnvironment), VerifyDomain: input.VerifyApplicationDomain,
		VerifyRealm: input.VerifyApplicationRealm})
	if err != nil {
		return nil, err
	}
	return &model.CreateApplicationOutput{Application: applicationModel(app), APIKey: issuedKeyModel(key), Tenant: tenantModel(tp.Tenant)}, nil
}

func (r *Resolver) createApplicationKey(ctx context.Context, input model.CreateApplicationAPIKeyInput) (*model.CreateApplicationAPIKeyOutput, error) {
	tp, err := tenantCaller(ctx)
	if err != nil {
		return nil, err
	}
	var mode *tenant.KeyMode
	if input.Mode != nil {
		m := tenant.KeyMode(*input.Mode)
		mode = &m
	}
	app, key, err := r.Service.CreateApplicationKey(ctx, tp, input.ApplicationID, mode, input.Note)
	if err != nil {
		return nil, err
	}
	return &model.CreateApplicationAPIKeyOutput{Application: applicationModel(app), APIKey: issuedKeyModel(key)}, nil
}

func (r *Resolver) refreshApplicationKey(ctx context.Context, input model.RefreshApplicationAPIKeyInput) (*model.RefreshApplicationAPIKeyOutput, error) {
	tp, err := tenantCaller(ctx)
	if err != nil {
		return nil, err
	}
	app, key, err := r.Service.RefreshApplicationKey(ctx, tp, input.ApplicationID, input.APIKeyID)
	if err != nil {
		return nil, err
	}
	return &model.RefreshApplicationAPIKeyOutput{Application: applicationModel(app), APIKey: issuedKeyModel(key)}, nil
}

func (r *Resolver) deleteApplicationKey(ctx context.Context, input model.DeleteApplicationAPIKeyInput) (*model.DeleteApplicationAPIKeyOutput, error) {
	tp, err := tenantCaller(ctx)
	if err != nil {
		return nil, err
	}
	app, err := r.Service.DeleteApplicationKey(ctx, tp, input.ApplicationID, input.APIKeyID)
	if err != nil {
		return nil, err
	}
	return &model.DeleteApplicationAPIKeyOutput{Application: applicationModel(app)}, nil
}

func (r *Resolver) tenant(ctx context.Context, id string) (*model.Tenant, error) {
	tp, err := tenantCaller(ctx)
	if err != nil {
		return nil, err
	}
	t := r.Service.Tenant(tp, id)
	if t == nil {
		return nil, nil
	}
	return tenantModel(*t), nil
}

func (r *Resolver) tenantApplications(ctx context.Context, obj *model.Tenant, domain *string) ([]*model.Application, error) {
	tp, err := tenantCaller(ctx)
	if err != nil {
		return nil, err
	}
	apps, err := r.Service.TenantApplications(ctx, tp, obj.ID, domain)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Application, 0, len(apps))
	for _, app := range apps {
		out = append(out, applicationModel(app))
	}
	return out, nil
}

// tenantWebhookLogs answers Tenant.webhookLogs, and Application.webhookLogs for a tenant key
// (applicationID set).
func (r *Resolver) tenantWebhookLogs(ctx context.Context, tenantID, applicationID, from, to string, succeeded *bool) ([]model.WebhookInvocation, error) {
	tp, err := tenantCaller(ctx)
	if err != nil {
		return nil, err
	}
	if tenantID == "" {
		tenantID = tp.Tenant.ID
	}
	invs, err := r.Service.TenantWebhookLogs(ctx, tp, tenantID, applicationID, signing.WebhookLogQuery{From: from, To: to, Succeeded: succeeded})
	if err != nil {
		return nil, err
	}
	out := make([]model.WebhookInvocation, len(invs))
	for i, inv := range invs {
		out[i] = invocationModel(inv)
	}
	return out, nil
}

// tenantApplication answers Query.application for a tenant key: one of its applications by id or by
// the Verify application createApplication named; null for anything else.
func (r *Resolver) tenantApplication(ctx context.Context, tp signing.TenantPrincipal, id *string, verify *model.VerifyApplicationQueryInput) (*model.Application, error) {
	var (
		app *tenant.Application
		err error
	)
	switch {
	case verify != nil:
		app, err = r.Service.TenantApplicationByVerify(ctx, tp, signing.VerifyApplicationQuery{TenantID: verify.TenantID,
			Domain: verify.Domain, Realm: verify.Realm})
		if app != nil && id != nil && *id != app.ID {
			app = nil // both given: they must name the same application
		}
	case id != nil:
		app, err = r.Service.TenantApplication(ctx, tp, *id)
	}
	if err != nil || app == nil {
		return nil, err
	}
	return applicationModel(*app), nil
}

// tenantApplicationKeys answers Application.apiKeys for a tenant key (secrets are never shown again).
func (r *Resolver) tenantApplicationKeys(ctx context.Context, tp signing.TenantPrincipal, applicationID string) ([]*model.ApplicationAPIKey, error) {
	keys, err := r.Service.TenantApplicationKeys(ctx, tp, applicationID)
	if err != nil {
		return nil, err
	}
	out := make([]*model.ApplicationAPIKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, apiKeyModel(k, nil))
	}
	return out, nil
}

// verifyApplication answers Application.verifyApplication: for a tenant key, of one of its
// applications; for an application key, of its own application.
func (r *Resolver) verifyApplication(ctx context.Context, obj *model.Application) (*model.VerifyApplication, error) {
	var app tenant.Application
	if tp, ok := asTenant(ctx); ok {
		own, err := r.Service.TenantApplication(ctx, tp, obj.ID)
		if err != nil {
			return nil, err
		}
		if own == nil {
			return nil, fmt.Errorf("application %s is not tenant %s's", obj.ID, tp.Tenant.ID)
		}
		app = *own
	} else {
		p, err := caller(ctx)
		if err != nil {
			return nil, err
		}
		if p.Application.ID != obj.ID {
			return nil, fault.Unauthorized()
		}
		app = p.Application
	}
	v := r.Service.VerifyApplicationOf(app)
	return &model.VerifyApplication{Domain: v.Domain, Realm: v.Realm, Environment: model.VerifyApplicationEnvironment(v.Environment)}, nil
}

// applicationTenant answers Application.tenant: the tenant, for its own key only.
func (r *Resolver) applicationTenant(ctx context.Context, obj *model.Application) (*model.Tenant, error) {
	tp, ok := asTenant(ctx)
	if !ok {
		return nil, nil // an application key is never shown the tenant level
	}
	app, err := r.Service.TenantApplication(ctx, tp, obj.ID)
	if err != nil || app == nil {
		return nil, err
	}
	return tenantModel(tp.Tenant), nil
}
