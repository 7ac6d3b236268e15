package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The official Python SDK is a second client beside the Node one: it serializes every unset input
// field as an explicit null, which the Node SDK never sends. It is installed from PyPI at test time
// into a virtualenv under tools/.cache (git-ignored), exactly as e2e/python-sdk-requirements.txt pins
// it and each of its dependencies (with hashes).
const (
	// PythonSDKVersion is the criipto-signatures release the requirements file pins.
	PythonSDKVersion = "2.0.1"
	// pythonSDKMinor is the oldest Python 3 minor version criipto-signatures 2.x installs on
	// (Requires-Python >=3.13).
	pythonSDKMinor = 13
	// PythonSDKRequirements is the requirements file, relative to the module root.
	PythonSDKRequirements = "e2e/python-sdk-requirements.txt"
	// PythonSDKInterpreterEnv names an interpreter (Python 3.13 or later) to build the virtualenv
	// from, for machines whose python3 is older.
	PythonSDKInterpreterEnv = "PYTHON_SDK_INTERPRETER"
)

var pythonSDKSetup struct {
	once   sync.Once
	python string
	err    error
	skip   bool // the error is a missing prerequisite of the machine (no Python 3.13, no index)
}

// PythonSDK returns the python of a virtualenv holding the official Python SDK at PythonSDKVersion,
// installing it first if needed (once per process; across processes under a file lock). When the
// machine has no Python 3.13 or the package index cannot be reached, the test fails in CI
// (CI=true) and is skipped elsewhere.
func PythonSDK(t testing.TB) string {
	t.Helper()
	pythonSDKSetup.once.Do(func() {
		pythonSDKSetup.python, pythonSDKSetup.skip, pythonSDKSetup.err = installPythonSDK()
	})
	if err := pythonSDKSetup.err; err != nil {
		msg := fmt.Sprintf("criipto-signatures %s (the official Python SDK): %v", PythonSDKVersion, err)
		if !pythonSDKSetup.skip || os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (skipped outside CI, where it fails)")
	}
	return pythonSDKSetup.python
}

// moduleRootOfSource is the repository root, found from this file's path so that it does not depend
// on the working folder of the test.
func moduleRootOfSource() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..")
}

// installPythonSDK makes tools/.cache/python-sdk-venv hold exactly the pinned requirements and
// returns its python. missing reports that the failure is the machine's (no interpreter, no index).
func installPythonSDK() (python string, missing bool, err error) {
	root := moduleRootOfSource()
	requirements := filepath.Join(root, filepath.FromSlash(PythonSDKRequirements))
	want, err := os.ReadFile(requirements)
	if err != nil {
		return "", false, err
	}
	cache := filepath.Join(root, "tools", ".cache")
	venv := filepath.Join(cache, "python-sdk-venv")
	python = filepath.Join(venv, "bin", "python")
	// A copy of the requirements the virtualenv was built from: a changed pin rebuilds it.
	stamp := filepath.Join(venv, "installed-requirements.txt")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", false, err
	}
	unlock, err := LockFile(filepath.Join(cache, "python-sdk-venv.lock"))
	if err != nil {
		return "", false, err
	}
	defer unlock()

	if got, err := os.ReadFile(stamp); err == nil && bytes.Equal(got, want) && installedPythonSDK(python) == nil {
		return python, false, nil
	}
	base, err := pythonForSDK()
	if err != nil {
		return "", true, err
	}
	if err := PyPIReachable("criipto-signatures"); err != nil {
		return "", true, err
	}
	if err := os.RemoveAll(venv); err != nil {
		return "", false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, base, "-m", "venv", venv).CombinedOutput(); err != nil {
		return "", false, fmt.Errorf("%s -m venv %s: %v\n%s", base, venv, err, out)
	}
	// Hashes for every file, no dependency resolution (the file lists them all) and wheels only, so
	// what runs is exactly what the file names.
	pip := exec.CommandContext(ctx, python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
		"--timeout", "60", "--retries", "2", "--require-hashes", "--no-deps", "--only-binary=:all:", "-r", requirements)
	if out, err := pip.CombinedOutput(); err != nil {
		return "", false, fmt.Errorf("pip install -r %s into %s: %v\n%s", PythonSDKRequirements, venv, err, out)
	}
	if out, err := exec.CommandContext(ctx, python, "-m", "pip", "check").CombinedOutput(); err != nil {
		return "", false, fmt.Errorf("pip check in %s (the requirements file misses a dependency): %v\n%s", venv, err, out)
	}
	if err := installedPythonSDK(python); err != nil {
		return "", false, fmt.Errorf("after pip install: %w", err)
	}
	if err := os.WriteFile(stamp, want, 0o644); err != nil {
		return "", false, err
	}
	return python, false, nil
}

// installedPythonSDK checks that python imports the SDK at the pinned version.
func installedPythonSDK(python string) error {
	if _, err := os.Stat(python); err != nil {
		return err
	}
	check := `import importlib.metadata as m, criipto_signatures; print(m.version("criipto-signatures"))`
	out, err := exec.Command(python, "-c", check).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", python, err, out)
	}
	if got := strings.TrimSpace(string(out)); got != PythonSDKVersion {
		return fmt.Errorf("installed criipto-signatures %q, want %q", got, PythonSDKVersion)
	}
	return nil
}

// pythonForSDK finds an interpreter of Python 3.13 or later that can create a virtualenv:
// $PYTHON_SDK_INTERPRETER, then python3.x and python3 on PATH (newest first), then the versions of a
// pyenv installation ($PYENV_ROOT or ~/.pyenv), whose shims on PATH answer only for the selected
// version.
func pythonForSDK() (string, error) {
	if p := os.Getenv(PythonSDKInterpreterEnv); p != "" {
		if err := usablePython(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", PythonSDKInterpreterEnv, p, err)
		}
		return p, nil
	}
	var candidates []string
	for minor := pythonSDKMinor + 6; minor >= pythonSDKMinor; minor-- {
		candidates = append(candidates, fmt.Sprintf("python3.%d", minor))
	}
	candidates = append(candidates, "python3")
	pyenv := os.Getenv("PYENV_ROOT")
	if home, err := os.UserHomeDir(); pyenv == "" && err == nil {
		pyenv = filepath.Join(home, ".pyenv")
	}
	if pyenv != "" {
		found, _ := filepath.Glob(filepath.Join(pyenv, "versions", "3.*", "bin", "python3"))
		// Newest first: 3.13.10 after 3.13.9, by the numbers of the folder name.
		sort.Slice(found, func(i, j int) bool { return versionLess(pyenvVersion(found[j]), pyenvVersion(found[i])) })
		candidates = append(candidates, found...)
	}
	var tried []string
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		if err := usablePython(path); err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		return path, nil
	}
	msg := fmt.Sprintf("no Python 3.%d or later with the venv module (criipto-signatures 2.x requires it); set %s to one", pythonSDKMinor, PythonSDKInterpreterEnv)
	if len(tried) > 0 {
		msg += "; tried " + strings.Join(tried, "; ")
	}
	return "", errors.New(msg)
}

func pyenvVersion(python string) string { return filepath.Base(filepath.Dir(filepath.Dir(python))) }

// versionLess compares dotted version numbers numerically ("3.13.9" < "3.13.10"); a part that is
// not a number (a pre-release suffix) compares as text.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		var na, nb int
		_, errA := fmt.Sscanf(pa[i], "%d", &na)
		_, errB := fmt.Sscanf(pb[i], "%d", &nb)
		if errA != nil || errB != nil {
			if pa[i] != pb[i] {
				return pa[i] < pb[i]
			}
			continue
		}
		if na != nb {
			return na < nb
		}
	}
	return len(pa) < len(pb)
}

// usablePython checks that python runs (a pyenv shim of an unselected version does not), is 3.13
// or later, and has venv and ensurepip (Debian splits them into python3-venv).
func usablePython(python string) error {
	check := fmt.Sprintf(`import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, %d) else 3)`, pythonSDKMinor)
	out, err := exec.Command(python, "-c", check).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		version, _ := exec.Command(python, "--version").CombinedOutput()
		return fmt.Errorf("%s is older than 3.%d", strings.TrimSpace(string(version)), pythonSDKMinor)
	}
	if err != nil {
		return fmt.Errorf("%v: %s", err, firstLine(string(out)))
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
