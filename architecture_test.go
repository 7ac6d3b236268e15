package main

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The layering ARCHITECTURE.md draws, checked on the imports of non-test files.
func TestDependenciesPointDown(t *testing.T) {
	adapters := []string{"esign/internal/store", "esign/internal/blob", "esign/internal/envelope", "esign/internal/pdf",
		"esign/internal/pki", "esign/internal/tsa", "esign/internal/webhook", "esign/internal/keyring", "esign/internal/config"}
	rules := []struct {
		dirs   []string // packages (and their subpackages) the rule is about
		forbid []string // import path prefixes they must not import
		why    string
	}{
		{[]string{"internal"}, []string{"esign/graph"}, "nothing under internal/ depends on the GraphQL edge"},
		{[]string{"graph", "internal/signui", "internal/graphiql"}, adapters, "an edge calls the service, never an adapter"},
		{[]string{"internal/order", "internal/evidence", "internal/i18n", "internal/tenant", "internal/idempotency", "internal/fault"},
			append(adapters, "esign/internal/signing"), "the domain does no I/O and knows no service"},
	}
	for _, rule := range rules {
		for _, dir := range rule.dirs {
			for pkg, imports := range importsUnder(t, dir) {
				for _, imp := range imports {
					for _, bad := range rule.forbid {
						if imp == bad || strings.HasPrefix(imp, bad+"/") {
							t.Errorf("%s imports %s: %s", pkg, imp, rule.why)
						}
					}
				}
			}
		}
	}
}

// ARCHITECTURE.md is the map: it names every package under internal/ has (test helpers included).
func TestArchitectureNamesEveryPackage(t *testing.T) {
	doc, err := os.ReadFile("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "./internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(pkg, "esign/")
		if !strings.Contains(string(doc), rel) && !strings.Contains(string(doc), "*/"+filepath.Base(rel)) {
			t.Errorf("ARCHITECTURE.md does not name %s", rel)
		}
	}
}

// importsUnder maps each package directory under dir to the imports of its non-test files.
func importsUnder(t *testing.T, dir string) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			found[pkg] = append(found[pkg], imp)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	if len(found) == 0 {
		t.Fatalf("no Go files under %s", dir)
	}
	return found
}
