package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// SignatoryToken is the signatory's secret link token: HMAC-SHA256 of the signatory id under the
// service's token key (256 bits, unguessable without the key). It is derived, not stored: the
// database keeps only its SHA-256 (TokenHash), so a database dump reveals no working link.
func (s *Service) SignatoryToken(signatoryID string) string {
	mac := hmac.New(sha256.New, s.cfg.TokenKey)
	mac.Write([]byte("esign signatory token v1\x00"))
	mac.Write([]byte(signatoryID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// TokenHash is what the store indexes a token by.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// SignatoryHref is the signing page link for a signatory.
func (s *Service) SignatoryHref(signatoryID string) string {
	return s.cfg.PublicURL + "/sign/" + s.SignatoryToken(signatoryID)
}
