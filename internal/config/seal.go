package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"esign/internal/pki"
	"esign/internal/tsa"
)

// sealNames are the variables of an operator's own seal certificate; keyring's start-up check
// names them in its errors.
var sealNames = pki.SealNames{
	PKCS12File: "SEAL_PKCS12_FILE", PKCS12Password: "SEAL_PKCS12_PASSWORD", KeyFile: "SEAL_KEY_FILE",
	ChainFile: "SEAL_CERT_CHAIN_FILE", TrustAnchorFile: "SEAL_TRUST_ANCHOR_FILE", Signer: "PKCS11_SEAL_KEY_LABEL",
}

// parseSeal reads the operator's seal: a PKCS#12 file, or a PEM key with a PEM chain, or an HSM
// key (PKCS11_SEAL_KEY_LABEL) with a PEM chain. Which combinations make sense is checked here;
// the files themselves are opened and checked at start (keyring), where the HSM is open too.
func (c *Config) parseSeal(getenv func(string) string) []error {
	c.Seal = pki.SealSource{
		PKCS12File: getenv("SEAL_PKCS12_FILE"), PKCS12Password: getenv("SEAL_PKCS12_PASSWORD"),
		KeyFile: getenv("SEAL_KEY_FILE"), ChainFile: getenv("SEAL_CERT_CHAIN_FILE"),
		TrustAnchorFile: getenv("SEAL_TRUST_ANCHOR_FILE"), Names: sealNames,
	}
	s := c.Seal
	var errs []error
	if s.PKCS12File != "" && s.KeyFile != "" {
		errs = append(errs, errors.New("SEAL_PKCS12_FILE and SEAL_KEY_FILE: set one of them (a PKCS#12 file holds its key)"))
	}
	if s.PKCS12Password != "" && s.PKCS12File == "" {
		errs = append(errs, errors.New("SEAL_PKCS12_PASSWORD is set without SEAL_PKCS12_FILE"))
	}
	if s.KeyFile != "" && s.ChainFile == "" {
		errs = append(errs, errors.New("SEAL_KEY_FILE needs SEAL_CERT_CHAIN_FILE: the seal certificate and its issuers (PEM)"))
	}
	if s.UsesHSM() && c.PKCS11.ModulePath == "" {
		errs = append(errs, errors.New("SEAL_CERT_CHAIN_FILE needs a key: SEAL_KEY_FILE, SEAL_PKCS12_FILE, or PKCS11_MODULE (the HSM key PKCS11_SEAL_KEY_LABEL)"))
	}
	if s.TrustAnchorFile != "" && !s.Configured() {
		errs = append(errs, errors.New("SEAL_TRUST_ANCHOR_FILE is set without a seal certificate (SEAL_PKCS12_FILE or SEAL_CERT_CHAIN_FILE)"))
	}
	return errs
}

// parseTSA reads the external TSA's credentials and timeout, and the built-in TSA's policy.
func (c *Config) parseTSA(getenv func(string) string) []error {
	var errs []error
	c.TSAUsername, c.TSAPassword, c.TSABearerToken = getenv("TSA_USERNAME"), getenv("TSA_PASSWORD"), getenv("TSA_BEARER_TOKEN")
	c.TSATimeout = 10 * time.Second
	if v := getenv("TSA_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("TSA_TIMEOUT: must be a positive duration such as 10s, got %q", v))
		}
		c.TSATimeout = d
	}
	credentials := c.TSAUsername != "" || c.TSAPassword != "" || c.TSABearerToken != ""
	if c.TSAURL != "" {
		u, err := url.Parse(c.TSAURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			errs = append(errs, fmt.Errorf("TSA_URL: must be an http or https URL with a host, got %q", c.TSAURL))
		case u.User != nil:
			errs = append(errs, errors.New("TSA_URL: must not carry credentials; use TSA_USERNAME and TSA_PASSWORD"))
		case credentials && u.Scheme != "https" && !loopback(u.Hostname()):
			// Basic auth and bearer tokens travel in clear over http: only to this machine.
			errs = append(errs, errors.New("TSA_URL: must be https when TSA_USERNAME, TSA_PASSWORD or TSA_BEARER_TOKEN is set (http only to a loopback address)"))
		}
	} else if credentials || getenv("TSA_TIMEOUT") != "" {
		errs = append(errs, errors.New("TSA_USERNAME, TSA_PASSWORD, TSA_BEARER_TOKEN and TSA_TIMEOUT need TSA_URL"))
	}
	if (c.TSAUsername == "") != (c.TSAPassword == "") {
		errs = append(errs, errors.New("TSA_USERNAME and TSA_PASSWORD go together"))
	}
	if c.TSABearerToken != "" && c.TSAUsername != "" {
		errs = append(errs, errors.New("TSA_BEARER_TOKEN and TSA_USERNAME: set one of them (both use the Authorization header)"))
	}
	c.TSAPolicy = tsa.DefaultPolicy
	if v := getenv("TSA_POLICY_OID"); v != "" {
		oid, err := tsa.ParsePolicy(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("TSA_POLICY_OID: %w", err))
		}
		if c.TSAURL != "" {
			errs = append(errs, errors.New("TSA_POLICY_OID is the built-in TSA's policy; TSA_URL is set, so the external TSA's policy applies"))
		}
		c.TSAPolicy = oid
	}
	return errs
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
