package evidence

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"esign/internal/fault"
	"esign/internal/order"
)

// LoginTTL is how long a started login may take before its state is refused.
const LoginTTL = 15 * time.Minute

// Login runs the OpenID Connect authorization-code flow with PKCE (golang.org/x/oauth2 for the
// protocol, go-oidc through JWTVerifier for discovery and the ID token). It keeps nothing on the
// server: the PKCE verifier, the nonce and what the login is for travel inside the state parameter,
// sealed with AES-GCM under a key every replica shares, so any replica can complete a login another
// one started.
type Login struct {
	Verifier *JWTVerifier
	aead     cipher.AEAD
}

// NewLogin derives the state key from secret (the service's token key).
func NewLogin(v *JWTVerifier, secret []byte) (*Login, error) {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("esign oidc login state v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("login state key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("login state key: %w", err)
	}
	return &Login{Verifier: v, aead: aead}, nil
}

// LoginClient is the relying party at one provider.
type LoginClient struct {
	Domain       string
	ClientID     string
	ClientSecret string // empty for a public client (PKCE alone)
	Audience     string // the ID token's expected audience; ClientID when empty
	AcrValues    []string
}

// LoginRequest is one login to start.
type LoginRequest struct {
	Client      LoginClient
	RedirectURI string
	AcrValue    string // sent as acr_values; must be one of Client.AcrValues when those are set
	Scope       string // extra scopes besides openid
	LoginHint   string
	IDTokenHint string
	// For is what the login is for (the signatory, the provider, the stage); returned by Complete.
	For LoginPurpose
}

// LoginPurpose binds a login to one signatory (or one batch signatory), provider and stage.
type LoginPurpose struct {
	OrderID     string `json:"o"`
	SignatoryID string `json:"s"`
	ProviderID  string `json:"p"`
	Stage       string `json:"g"`
	// Browser binds the login to the browser that started it (the hosted page's cookie); empty for API
	// callers.
	Browser string `json:"b,omitempty"`
	// Form is the id of the document form values the hosted page kept for a SIGN-stage login
	// (signing.StartLogin): the values stay on the server, only this id travels. Empty for none.
	Form string `json:"fm,omitempty"`
	// Batch is the batch signatory a SIGN-stage login is for (signing.StartBatchLogin): one login
	// signs every item, so OrderID and SignatoryID are empty and ProviderID is the batch's provider.
	Batch string `json:"bt,omitempty"`
}

type loginState struct {
	For         LoginPurpose `json:"f"`
	Verifier    string       `json:"v"`
	Nonce       string       `json:"n"`
	RedirectURI string       `json:"r"`
	AcrValue    string       `json:"a,omitempty"`
	Expires     int64        `json:"e"`
}

// Start returns the provider's authorization URL and the state that Complete takes back.
func (l *Login) Start(ctx context.Context, req LoginRequest) (authURL, state string, err error) {
	if len(req.Client.AcrValues) > 0 && req.AcrValue != "" && !slices.Contains(req.Client.AcrValues, req.AcrValue) {
		return "", "", fault.Invalid("acrValue", "must be one of the provider's acrValues (%s)", strings.Join(req.Client.AcrValues, ", "))
	}
	if err := checkRedirectURI(req.RedirectURI); err != nil {
		return "", "", err
	}
	cfg, err := l.oauthConfig(ctx, req.Client, req.RedirectURI, req.Scope)
	if err != nil {
		return "", "", err
	}
	st := loginState{For: req.For, Verifier: oauth2.GenerateVerifier(), Nonce: randomString(),
		RedirectURI: req.RedirectURI, AcrValue: req.AcrValue, Expires: l.Verifier.Now().Add(LoginTTL).Unix()}
	state, err = l.seal(st)
	if err != nil {
		return "", "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce)}
	if req.AcrValue != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", req.AcrValue))
	}
	if req.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", req.LoginHint))
	}
	if req.IDTokenHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("id_token_hint", req.IDTokenHint))
	}
	return cfg.AuthCodeURL(state, opts...), state, nil
}

// Purpose opens a state without completing the login: what it was started for. Use it to find the
// provider whose client completes the login.
func (l *Login) Purpose(state string) (LoginPurpose, error) {
	st, err := l.open(state)
	if err != nil {
		return LoginPurpose{}, err
	}
	return st.For, nil
}

// Complete exchanges the code (with the PKCE verifier from the state), verifies the ID token (issuer
// keys, audience, expiry, acr, nonce) and returns it as evidence. purpose must equal what the login
// was started for.
func (l *Login) Complete(ctx context.Context, client LoginClient, code, state string, purpose LoginPurpose) (Evidence, error) {
	st, err := l.open(state)
	if err != nil {
		return Evidence{}, err
	}
	if st.For != purpose {
		return Evidence{}, fault.Invalid("state", "belongs to another signatory, provider or stage")
	}
	if strings.TrimSpace(code) == "" {
		return Evidence{}, fault.Invalid("code", "must not be empty")
	}
	cfg, err := l.oauthConfig(ctx, client, st.RedirectURI, "")
	if err != nil {
		return Evidence{}, err
	}
	token, err := cfg.Exchange(oidc.ClientContext(ctx, l.Verifier.HTTP), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Evidence{}, fault.Invalid("code", "was refused by the identity provider (used already, expired, or not issued for this login)")
		}
		return Evidence{}, unreachable(client.Domain)
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return Evidence{}, fault.Invalid("code", "the identity provider returned no ID token")
	}
	acr := client.AcrValues
	if st.AcrValue != "" {
		acr = []string{st.AcrValue}
	}
	ev, err := l.Verifier.Verify(ctx, client.Domain, audience(client), acr, raw)
	if err != nil {
		return Evidence{}, err
	}
	if nonce, _ := ev.Claims["nonce"].(string); !hmac.Equal([]byte(nonce), []byte(st.Nonce)) {
		return Evidence{}, fault.Invalid("code", "the ID token was not issued for this login (nonce)")
	}
	return ev, nil
}

// RawJWT is the ID token inside criipto.signature.jwt.v1 evidence.
func RawJWT(e Evidence) string {
	var v struct {
		JWT string `json:"jwt"`
	}
	_ = json.Unmarshal([]byte(e.Value), &v)
	return v.JWT
}

func audience(c LoginClient) string {
	if c.Audience != "" {
		return c.Audience
	}
	return c.ClientID
}

func (l *Login) oauthConfig(ctx context.Context, c LoginClient, redirectURI, scope string) (*oauth2.Config, error) {
	endpoint, err := l.Verifier.Endpoint(ctx, c.Domain)
	if err != nil {
		return nil, err
	}
	scopes := []string{oidc.ScopeOpenID}
	for _, s := range strings.Fields(scope) {
		if s != oidc.ScopeOpenID {
			scopes = append(scopes, s)
		}
	}
	if c.ClientSecret == "" {
		// A public client: the secret is the PKCE verifier; send the client id in the body.
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: endpoint,
		RedirectURL: redirectURI, Scopes: scopes}, nil
}

// checkRedirectURI applies the API's URL rules (order.ParseWebURL): the URI goes into the
// provider's authorization URL and the provider redirects the browser to it.
func checkRedirectURI(uri string) error {
	if err := order.CheckText("redirectUri", uri, order.MaxURLLen, false); err != nil {
		return err
	}
	if _, err := order.ParseWebURL(uri); err != nil {
		return fault.Invalid("redirectUri", "must be an absolute http(s) URL: %s", err.Error())
	}
	return nil
}

func (l *Login) seal(st loginState) (string, error) {
	plain, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encode login state: %w", err)
	}
	nonce := make([]byte, l.aead.NonceSize(), l.aead.NonceSize()+len(plain)+l.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("login state nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(l.aead.Seal(nonce, nonce, plain, nil)), nil
}

func (l *Login) open(state string) (loginState, error) {
	bad := fault.Invalid("state", "is not a login this service started, or it has expired")
	raw, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil || len(raw) < l.aead.NonceSize()+l.aead.Overhead() {
		return loginState{}, bad
	}
	plain, err := l.aead.Open(nil, raw[:l.aead.NonceSize()], raw[l.aead.NonceSize():], nil)
	if err != nil {
		return loginState{}, bad
	}
	var st loginState
	if err := json.Unmarshal(plain, &st); err != nil || l.Verifier.Now().Unix() > st.Expires {
		return loginState{}, bad
	}
	return st, nil
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
