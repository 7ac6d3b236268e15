// Package deps pins the project's dependencies while the packages that use them are written.
// Delete this file once every import below is used by real code.
package deps

import (
	_ "github.com/99designs/gqlgen/graphql/handler"
	_ "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	_ "github.com/ThalesGroup/crypto11"
	_ "github.com/chromedp/chromedp"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/miekg/pkcs11"
	_ "github.com/pdfcpu/pdfcpu/pkg/api"
	_ "github.com/pressly/goose/v3"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/robfig/cron/v3"
	_ "github.com/tink-crypto/tink-go/v2/aead"
	_ "github.com/tink-crypto/tink-go/v2/aead/subtle"
	_ "github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	_ "github.com/tink-crypto/tink-go/v2/keyset"
	_ "github.com/vektah/gqlparser/v2"
	_ "modernc.org/sqlite"
)
