package pdftest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/testenv"
)

// pyHanko is a third validator beside poppler and OpenSSL, and the only one here that judges what the
// incremental updates after each signature changed (its diff policy): whether a later seal, a form
// fill or the close stayed within what a signature permits. It is installed from PyPI at test time
// into a virtualenv under tools/.cache (git-ignored), pinned to these versions.
const (
	pyHankoVersion       = "0.38.0"
	pyHankoCertValidator = "0.33.0"
)

//go:embed pyhanko_validate.py
var pyHankoScript []byte

// ModificationLevel is pyHanko's judgment of the changes made after a signature, from none to
// anything (pyhanko.sign.diff_analysis.ModificationLevel; same order and names).
type ModificationLevel int

const (
	LevelNone        ModificationLevel = iota // the signature covers the whole file
	LevelLTAUpdates                           // only DSS and document timestamps were added
	LevelFormFilling                          // also form fields were filled and signature fields signed
	LevelAnnotations                          // also annotations were added or changed
	LevelOther                                // anything else: a change the diff policy could not explain
	// LevelUnknown is a result without a level (no diff analysis); it passes no check.
	LevelUnknown
)

var levelNames = []string{"NONE", "LTA_UPDATES", "FORM_FILLING", "ANNOTATIONS", "OTHER", "UNKNOWN"}

func (l ModificationLevel) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("ModificationLevel(%d)", int(l))
	}
	return levelNames[l]
}

// UnmarshalText reads pyHanko's name of a level; the empty name is LevelUnknown.
func (l *ModificationLevel) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*l = LevelUnknown
		return nil
	}
	for i, n := range levelNames {
		if string(b) == n {
			*l = ModificationLevel(i)
			return nil
		}
	}
	return fmt.Errorf("unknown pyHanko modification level %q", b)
}

// PyHankoResult is pyHanko's verdict on one signature or document timestamp of a PDF, in file order.
type PyHankoResult struct {
	Field     string `json:"field"`     // the signature field's fully qualified name
	Timestamp bool   `json:"timestamp"` // a document timestamp (/DocTimeStamp), else a /Sig signature
	Intact    bool   `json:"intact"`    // the digest over the byte range matches
	Valid     bool   `json:"valid"`     // the cryptographic signature verifies
	Trusted   bool   `json:"trusted"`   // the signer's chain ends at the given root, per RevocationMode
	// RevocationMode is "hard-fail" when the document has a DSS (every certificate's OCSP response
	// or CRL must be in it, or the signature is untrusted) and "soft-fail" without one (nothing is
	// fetched, so an unknown status is accepted).
	RevocationMode string `json:"revocation_mode"`
	// Level is what the updates after this signature changed, per pyHanko's default diff policy.
	Level ModificationLevel `json:"modification_level"`
	// DocMDPOK is whether Level is within the document's modification policy (nil when undetermined:
	// pyHanko does not judge it for document timestamps).
	DocMDPOK *bool  `json:"docmdp_ok"`
	Coverage string `json:"coverage"` // ENTIRE_FILE, ENTIRE_REVISION, ...
	// BottomLine is pyHanko's overall judgment (what its CLI prints as VALID/INVALID).
	BottomLine bool   `json:"bottom_line"`
	Summary    string `json:"summary"` // pyHanko's one-line summary, e.g. "INTACT:TRUSTED,UNTOUCHED"
	// DiffError is the diff policy's reason when it refused a change (Level is then OTHER): which
	// object changed and why that is not allowed.
	DiffError         string   `json:"diff_error"`
	ChangedFormFields []string `json:"changed_form_fields"`
	// SignatureTimestamp is whether a /Sig carries a signature timestamp, SignatureTimestampOK whether
	// it is intact, valid and trusted.
	SignatureTimestamp   bool `json:"signature_timestamp"`
	SignatureTimestampOK bool `json:"signature_timestamp_ok"`
}

// PyHankoValidate runs pyHanko's validation over every signature and document timestamp of pdf, with
// trustRootPEM (one or more PEM certificates) as the only trust anchors and no network access; the
// DSS's certificates, OCSP responses and CRLs are used when the document has one, and must then be
// complete (see PyHankoResult.RevocationMode). pyHanko is installed on first use (see
// pyHankoPython); when PyPI cannot be reached the test fails in CI (CI=true) and is skipped elsewhere.
func PyHankoValidate(t testing.TB, pdf []byte, trustRootPEM []byte) []PyHankoResult {
	t.Helper()
	python := pyHankoPython(t)
	dir := t.TempDir()
	script, doc, root := filepath.Join(dir, "validate.py"), filepath.Join(dir, "in.pdf"), filepath.Join(dir, "root.pem")
	for path, data := range map[string][]byte{script: pyHankoScript, doc: pdf, root: trustRootPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, script, doc, root)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pyHanko validation: %v\n%s", err, stderr.String())
	}
	var out []PyHankoResult
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("pyHanko validation printed no JSON list (%v):\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return out
}

// RequirePyHankoValid fails t unless pyHanko finds wantSignatures signatures (document timestamps
// included) and each is intact, valid and trusted, its signature timestamp (if any) too, and the
// changes after it are at most maxLevel (and within its DocMDP policy when maxLevel is below
// LevelOther). It returns the results for checks on single signatures.
func RequirePyHankoValid(t testing.TB, pdf []byte, trustRootPEM []byte, wantSignatures int, maxLevel ModificationLevel) []PyHankoResult {
	t.Helper()
	results := PyHankoValidate(t, pdf, trustRootPEM)
	if len(results) != wantSignatures {
		t.Fatalf("pyHanko found %d signatures, want %d: %s", len(results), wantSignatures, pyHankoReport(results))
	}
	for i, r := range results {
		var problems []string
		if !r.Intact || !r.Valid || !r.Trusted {
			problems = append(problems, fmt.Sprintf("intact %t, valid %t, trusted %t", r.Intact, r.Valid, r.Trusted))
		}
		if r.SignatureTimestamp && !r.SignatureTimestampOK {
			problems = append(problems, "its signature timestamp does not validate")
		}
		if r.Level > maxLevel {
			problems = append(problems, fmt.Sprintf("modification level %s above %s", r.Level, maxLevel))
		}
		if maxLevel < LevelOther && (r.DocMDPOK != nil && !*r.DocMDPOK || r.DocMDPOK == nil && !r.Timestamp) {
			problems = append(problems, "changes not within its modification policy (docmdp_ok)")
		}
		if len(problems) > 0 {
			t.Errorf("pyHanko, signature %d (%s): %s; summary %q%s", i+1, r.Field, strings.Join(problems, "; "), r.Summary, diffReason(r))
		}
	}
	return results
}

// pyHankoReport is a short per-signature listing for failure messages and logs.
func pyHankoReport(results []PyHankoResult) string {
	var b strings.Builder
	for i, r := range results {
		fmt.Fprintf(&b, "\n  %d %s: %s, level %s%s", i+1, r.Field, r.Summary, r.Level, diffReason(r))
	}
	return b.String()
}

func diffReason(r PyHankoResult) string {
	if r.DiffError == "" {
		return ""
	}
	return "; diff policy: " + r.DiffError
}

var pyHankoSetup struct {
	once   sync.Once
	python string
	err    error
	skip   bool // the error is that the package index cannot be reached
}

// pyHankoPython returns the virtualenv's python, installing pyHanko first if needed (once per
// process; across processes under a file lock, since go test runs packages in parallel).
func pyHankoPython(t testing.TB) string {
	t.Helper()
	pyHankoSetup.once.Do(func() { pyHankoSetup.python, pyHankoSetup.skip, pyHankoSetup.err = installPyHanko() })
	if err := pyHankoSetup.err; err != nil {
		if !pyHankoSetup.skip {
			t.Fatalf("pyHanko %s: %v", pyHankoVersion, err)
		}
		msg := fmt.Sprintf("pyHanko %s cannot be installed: %v", pyHankoVersion, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (skipped outside CI, where it fails)")
	}
	return pyHankoSetup.python
}

func pyHankoCacheDir() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "..", "tools", ".cache")
}

// installPyHanko makes tools/.cache/pyhanko-venv hold the pinned versions and returns its python.
// unreachable reports that the failure is the package index being out of reach.
func installPyHanko() (python string, unreachable bool, err error) {
	cache := pyHankoCacheDir()
	venv := filepath.Join(cache, "pyhanko-venv")
	python = filepath.Join(venv, "bin", "python")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", false, err
	}
	unlock, err := testenv.LockFile(filepath.Join(cache, "pyhanko-venv.lock"))
	if err != nil {
		return "", false, err
	}
	defer unlock()

	if installedPyHanko(python) == nil {
		return python, false, nil
	}
	if err := testenv.PyPIReachable("pyhanko"); err != nil {
		return "", true, err
	}
	base, err := exec.LookPath("python3")
	if err != nil {
		return "", false, errors.New("python3 not found in PATH: apt-get install python3 python3-venv (pyHanko needs Python 3.10 or later)")
	}
	if err := os.RemoveAll(venv); err != nil {
		return "", false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, base, "-m", "venv", venv).CombinedOutput(); err != nil {
		return "", false, fmt.Errorf("%s -m venv %s: %v (on Debian: apt-get install python3-venv)\n%s", base, venv, err, out)
	}
	pip := exec.CommandContext(ctx, python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
		"--timeout", "60", "--retries", "2",
		"pyHanko=="+pyHankoVersion, "pyhanko-certvalidator=="+pyHankoCertValidator)
	if out, err := pip.CombinedOutput(); err != nil {
		return "", false, fmt.Errorf("pip install pyHanko==%s pyhanko-certvalidator==%s into %s: %v\n%s", pyHankoVersion, pyHankoCertValidator, venv, err, out)
	}
	if err := installedPyHanko(python); err != nil {
		return "", false, fmt.Errorf("after pip install: %w", err)
	}
	return python, false, nil
}

// installedPyHanko checks that python imports what the script uses, at the pinned versions.
func installedPyHanko(python string) error {
	if _, err := os.Stat(python); err != nil {
		return err
	}
	check := `import importlib.metadata as m, pyhanko.sign.validation, pyhanko_certvalidator; ` +
		`print(m.version("pyHanko"), m.version("pyhanko-certvalidator"))`
	out, err := exec.Command(python, "-c", check).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", python, err, out)
	}
	if got, want := strings.TrimSpace(string(out)), pyHankoVersion+" "+pyHankoCertValidator; got != want {
		return fmt.Errorf("installed pyHanko and certvalidator versions %q, want %q", got, want)
	}
	return nil
}
