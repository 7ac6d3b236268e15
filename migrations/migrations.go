// Package migrations holds the database schema as numbered goose SQL files, one set per backend,
// embedded so the binary migrates its database at start without files on disk.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Postgres is the migration set for PostgreSQL, rooted at its own folder as goose expects.
var Postgres = mustSub("postgres")

// SQLite is the migration set for SQLite, rooted at its own folder as goose expects.
var SQLite = mustSub("sqlite")

func mustSub(dir string) fs.FS {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		// Only reachable if the embed pattern above and dir disagree: a programming error.
		panic(err)
	}
	return sub
}
