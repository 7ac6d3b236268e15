// Package schematest gives tests the operation documents of the official Node SDK (the oracle of the
// schema and of the query cost model), extracted by tools/extract-operations.js from the SDK that
// `make tools` installs.
package schematest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Operation is one element of tools/extract-operations.js's output.
type Operation struct {
	Package   string `json:"package"`
	Name      string `json:"name"`
	Operation string `json:"operation"`
	Type      string `json:"type"`
	Document  string `json:"document"`
}

// SDKOperations runs the extraction script against the SDK installed in tools/node_modules. Without
// Node or the SDK the test fails, saying what to install: a test of the schema against the oracle
// that skipped would be green while proving nothing.
func SDKOperations(t testing.TB) []Operation {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found in PATH: install Node.js 20 (Debian: apt-get install nodejs npm), then run `make tools`")
	}
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	sdk := filepath.Join(root, "tools", "node_modules", "@criipto", "signatures", "package.json")
	if _, err := os.Stat(sdk); err != nil {
		t.Fatalf("the official SDK is not installed (%v): run `make tools`", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(node, filepath.Join(root, "tools", "extract-operations.js"))
	cmd.Dir = filepath.Join(root, "schema")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("extract-operations.js: %v\n%s", err, stderr.String())
	}
	var ops []Operation
	if err := json.Unmarshal(stdout.Bytes(), &ops); err != nil {
		t.Fatalf("decode extract-operations.js output: %v", err)
	}
	return ops
}
