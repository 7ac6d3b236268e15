package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Paths of the revocation responders, relative to the service's public URL. Certificates of the
// local PKI name them (AIA OCSP, CRL distribution point), so any validator can ask.
const (
	OCSPPath   = "/pki/ocsp"
	CRLPath    = "/pki/crl"
	CACertPath = "/pki/ca.crt"
)

// How long revocation answers are valid; validators accept them until then.
const (
	ocspValidity = 7 * 24 * time.Hour
	crlValidity  = 7 * 24 * time.Hour
)

// Responder answers OCSP requests and serves the CRL of an Authority. It says "good" for the
// certificates it knows (the ones the service issued and uses) and "unknown" for any other serial:
// the local PKI keeps no register of everything it ever issued, and nothing is revoked.
type Responder struct {
	CA    *Authority
	Known []*x509.Certificate
	Now   func() time.Time
}

// OCSP is the DER OCSP response for cert: good when this CA signed it (nothing is ever revoked).
func (r *Responder) OCSP(cert *x509.Certificate) ([]byte, error) {
	return r.answer(cert.SerialNumber, cert.CheckSignatureFrom(r.CA.Cert) == nil)
}

// known reports whether serial is one of the certificates the responder was given.
func (r *Responder) known(serial *big.Int) bool {
	for _, c := range r.Known {
		if c.SerialNumber.Cmp(serial) == 0 && bytes.Equal(c.RawIssuer, r.CA.Cert.RawSubject) {
			return true
		}
	}
	return false
}

func (r *Responder) answer(serial *big.Int, good bool) ([]byte, error) {
	now := r.Now().UTC().Truncate(time.Second)
	status := ocsp.Unknown
	if good {
		status = ocsp.Good
	}
	der, err := ocsp.CreateResponse(r.CA.Cert, r.CA.Cert, ocsp.Response{Status: status, SerialNumber: serial,
		ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(ocspValidity), ProducedAt: now}, r.CA.Signer)
	if err != nil {
		return nil, fmt.Errorf("ocsp response: %w", err)
	}
	return der, nil
}

// CRL is the CA's current (empty) certificate revocation list, DER.
func (r *Responder) CRL() ([]byte, error) {
	now := r.Now().UTC().Truncate(time.Second)
	// The CRL number only has to grow; seconds since the epoch do, across restarts and replicas.
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(now.Unix()), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(crlValidity),
	}, r.CA.Cert, r.CA.Signer)
	if err != nil {
		return nil, fmt.Errorf("create CRL: %w", err)
	}
	return der, nil
}

// Register adds the responders: OCSP by POST and by GET (RFC 6960 appendix A), the CRL and the CA
// certificate.
func (r *Responder) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+OCSPPath, func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 64<<10))
		if err != nil {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.serveOCSP(w, body)
	})
	mux.HandleFunc("GET "+OCSPPath+"/{request...}", func(w http.ResponseWriter, req *http.Request) {
		raw, err := url.PathUnescape(req.PathValue("request"))
		if err != nil {
			http.Error(w, "malformed request", http.StatusBadRequest)
			return
		}
		body, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			http.Error(w, "malformed request", http.StatusBadRequest)
			return
		}
		r.serveOCSP(w, body)
	})
	mux.HandleFunc("GET "+CRLPath, func(w http.ResponseWriter, req *http.Request) {
		der, err := r.CRL()
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		_, _ = w.Write(der)
	})
	mux.HandleFunc("GET "+CACertPath, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/pkix-cert")
		_, _ = w.Write(r.CA.Cert.Raw)
	})
}

func (r *Responder) serveOCSP(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		_, _ = w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	if want, err := issuerKeyHash(r.CA.Cert, req.HashAlgorithm); err != nil || !bytes.Equal(req.IssuerKeyHash, want) {
		_, _ = w.Write(ocsp.UnauthorizedErrorResponse) // not our CA
		return
	}
	der, err := r.answer(req.SerialNumber, r.known(req.SerialNumber))
	if err != nil {
		_, _ = w.Write(ocsp.InternalErrorErrorResponse)
		return
	}
	_, _ = w.Write(der)
}

// issuerKeyHash is the hash of the CA's public key bits, which an OCSP request names its issuer by.
func issuerKeyHash(ca *x509.Certificate, h crypto.Hash) ([]byte, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(ca.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, err
	}
	if !h.Available() {
		return nil, fmt.Errorf("hash %v is not available", h)
	}
	d := h.New()
	d.Write(spki.PublicKey.Bytes)
	return d.Sum(nil), nil
}

// ValidationData is what a PDF's DSS holds for long-term validation: certificates and revocation
// answers, DER each.
type ValidationData struct {
	Certs, OCSPs, CRLs [][]byte
}

// Revocation gathers validation data for certificate chains: in process for the local CA (no
// network round trip to ourselves), over HTTP from the responders a certificate names otherwise
// (an external TSA's, for example).
type Revocation struct {
	Local *Responder // may be nil
	HTTP  *http.Client
	// Fetcher, when set, answers for every certificate the local CA did not issue (an operator's
	// seal chain, an external TSA's): cached until nextUpdate, OCSP first and the CRL when no
	// responder answers, and best effort. Data that cannot be fetched (a CA's responder down, an
	// issuer the token does not carry) is left out of the DSS with a warning in Log, and the close
	// goes on: the signatures and the document timestamp are valid without it, a validator can
	// still ask the CA itself, and an order's close must not wait on a third party's uptime. Only a
	// revoked certificate fails the close: sealing with it would hand out a document that
	// validators reject. Without a Fetcher, any failure fails the close (the local PKI's rule).
	Fetcher *Fetcher
	Log     *slog.Logger
}

// skip logs validation data left out of a DSS, when the Fetcher's best-effort rule allows it.
func (v *Revocation) skip(c *x509.Certificate, err error) bool {
	if v.Fetcher == nil || errors.Is(err, ErrRevoked) {
		return false
	}
	if v.Log != nil {
		v.Log.Warn("close: revocation data for a certificate could not be fetched; the DSS goes without it",
			"subject", c.Subject.String(), "issuer", c.Issuer.String(), "ocsp", c.OCSPServer, "crl", c.CRLDistributionPoints, "error", err)
	}
	return true
}

// ErrNoRevocationSource is returned for a certificate that names no OCSP responder and no CRL.
var ErrNoRevocationSource = errors.New("the certificate names no OCSP responder and no CRL")

// Collect returns every certificate of certs (deduplicated) with an OCSP answer (and the CRL) for
// each that is not self-signed. A certificate whose issuer is not among certs is an error: its
// status cannot be asked for.
func (v *Revocation) Collect(ctx context.Context, certs []*x509.Certificate) (ValidationData, error) {
	var out ValidationData
	seen := map[string]bool{}
	var unique []*x509.Certificate
	for _, c := range certs {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			unique = append(unique, c)
			out.Certs = append(out.Certs, c.Raw)
		}
	}
	crls := map[string]bool{}
	for _, c := range unique {
		if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			continue // a root: trusted as such, nothing to ask
		}
		issuer := issuerOf(c, unique)
		if issuer == nil {
			err := errors.New("its issuer is not in the chain")
			if v.skip(c, err) {
				continue
			}
			return out, fmt.Errorf("validation data for %q: %w", c.Subject.CommonName, err)
		}
		answer, crl, err := v.status(ctx, c, issuer)
		if err != nil {
			if v.skip(c, err) {
				continue
			}
			return out, fmt.Errorf("validation data for %q: %w", c.Subject.CommonName, err)
		}
		if answer != nil {
			out.OCSPs = append(out.OCSPs, answer)
			// A delegated responder (the CA's OCSP signing certificate, not the CA itself) embeds
			// its certificate in the answer: the DSS carries it too, or a validator offline later
			// cannot tell that the answer was signed on the CA's behalf.
			if r, err := ocsp.ParseResponse(answer, issuer); err == nil && r.Certificate != nil && !seen[string(r.Certificate.Raw)] {
				seen[string(r.Certificate.Raw)] = true
				out.Certs = append(out.Certs, r.Certificate.Raw)
			}
		}
		if crl != nil && !crls[string(crl)] {
			crls[string(crl)] = true
			out.CRLs = append(out.CRLs, crl)
		}
	}
	return out, nil
}

func issuerOf(c *x509.Certificate, certs []*x509.Certificate) *x509.Certificate {
	for _, candidate := range certs {
		if bytes.Equal(c.RawIssuer, candidate.RawSubject) && c.CheckSignatureFrom(candidate) == nil {
			return candidate
		}
	}
	return nil
}

func (v *Revocation) status(ctx context.Context, c, issuer *x509.Certificate) (answer, crl []byte, err error) {
	if v.Local != nil && bytes.Equal(issuer.Raw, v.Local.CA.Cert.Raw) {
		if answer, err = v.Local.OCSP(c); err != nil {
			return nil, nil, err
		}
		if crl, err = v.Local.CRL(); err != nil {
			return nil, nil, err
		}
		return answer, crl, nil
	}
	if v.Fetcher != nil {
		return v.Fetcher.Status(ctx, c, issuer)
	}
	if len(c.OCSPServer) == 0 && len(c.CRLDistributionPoints) == 0 {
		return nil, nil, ErrNoRevocationSource
	}
	if len(c.OCSPServer) > 0 {
		if answer, err = v.fetchOCSP(ctx, c, issuer); err != nil {
			return nil, nil, err
		}
	}
	if len(c.CRLDistributionPoints) > 0 {
		if crl, err = v.fetch(ctx, http.MethodGet, c.CRLDistributionPoints[0], "", nil); err != nil {
			return nil, nil, err
		}
		if _, err := x509.ParseRevocationList(crl); err != nil {
			return nil, nil, fmt.Errorf("CRL from %s: %w", c.CRLDistributionPoints[0], err)
		}
	}
	return answer, crl, nil
}

func (v *Revocation) fetchOCSP(ctx context.Context, c, issuer *x509.Certificate) ([]byte, error) {
	req, err := ocsp.CreateRequest(c, issuer, &ocsp.RequestOptions{})
	if err != nil {
		return nil, fmt.Errorf("ocsp request: %w", err)
	}
	der, err := v.fetch(ctx, http.MethodPost, c.OCSPServer[0], "application/ocsp-request", req)
	if err != nil {
		return nil, err
	}
	resp, err := ocsp.ParseResponseForCert(der, c, issuer)
	if err != nil {
		return nil, fmt.Errorf("ocsp response from %s: %w", c.OCSPServer[0], err)
	}
	if resp.Status != ocsp.Good {
		return nil, fmt.Errorf("ocsp responder %s says the certificate is not good (status %d)", c.OCSPServer[0], resp.Status)
	}
	return der, nil
}

func (v *Revocation) fetch(ctx context.Context, method, target, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := v.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: HTTP %d", method, target, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	return b, nil
}
