// Package schema holds the GraphQL schema (SDL) of the signatures API. gqlgen generates the executor
// from these files at build time; the running server embeds them too, to answer GET /v1/graphql with
// the SDL for integrators' code generators.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// FS holds every *.graphqls file of the schema.
//
//go:embed *.graphqls
var FS embed.FS

// Source returns the schema files as gqlparser sources, in file-name order so the result is stable.
// The files are embedded at compile time, so reading them cannot fail at run time; a failure here is
// a build defect and panics.
func Source() []*ast.Source {
	srcs, err := sources(FS)
	if err != nil {
		panic(err)
	}
	return srcs
}

// SDL returns the whole schema as one document, the files joined in file-name order.
func SDL() (string, error) {
	srcs, err := sources(FS)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(srcs))
	for i, s := range srcs {
		parts[i] = strings.TrimRight(s.Input, "\n") + "\n"
	}
	return strings.Join(parts, "\n"), nil
}

func sources(fsys fs.FS) ([]*ast.Source, error) {
	names, err := fs.Glob(fsys, "*.graphqls")
	if err != nil {
		return nil, fmt.Errorf("list schema files: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("list schema files: no *.graphqls embedded")
	}
	sort.Strings(names)
	srcs := make([]*ast.Source, 0, len(names))
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read schema file %s: %w", name, err)
		}
		srcs = append(srcs, &ast.Source{Name: name, Input: string(b)})
	}
	return srcs, nil
}
