package pdf_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The official Python SDK ships two sample PDFs that its users sign first: sample.pdf (whose
// cross-reference table and stream lengths do not match its bytes) and sample-form.pdf. They are
// fetched from PyPI at test time, never committed: pinned by version and by the wheel's SHA-256, and
// cached under tools/.cache (git-ignored).
const (
	sdkPackage = "criipto-signatures"
	sdkVersion = "2.0.1"
	sdkWheel   = "criipto_signatures-2.0.1-py3-none-any.whl"
	sdkSHA256  = "6ab47550a0b483e548309ba7e823162f392ed49e0f65657195180f9919cc08a8"
	pypiJSON   = "https://pypi.org/pypi/" + sdkPackage + "/json"
)

var sdkFetch struct {
	once  sync.Once
	wheel []byte
	err   error
}

// sdkSample returns the named PDF from the official SDK's wheel ("sample.pdf", "sample-form.pdf").
// When PyPI cannot be reached it fails the test in CI (CI=true), where the samples must be tested,
// and skips it elsewhere, saying why.
func sdkSample(t testing.TB, name string) []byte {
	t.Helper()
	sdkFetch.once.Do(func() { sdkFetch.wheel, sdkFetch.err = sdkWheelBytes() })
	if sdkFetch.err != nil {
		msg := fmt.Sprintf("the official SDK's sample PDFs (PyPI %s %s) are unavailable: %v", sdkPackage, sdkVersion, sdkFetch.err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (skipped outside CI, where it fails)")
	}
	zr, err := zip.NewReader(bytes.NewReader(sdkFetch.wheel), int64(len(sdkFetch.wheel)))
	if err != nil {
		t.Fatalf("open %s: %v", sdkWheel, err)
	}
	f, err := zr.Open("criipto_signatures/" + name)
	if err != nil {
		t.Fatalf("%s in %s: %v", name, sdkWheel, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func sdkCacheDir() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "tools", ".cache", "pypi")
}

// sdkWheelBytes returns the pinned wheel from the cache, or downloads it (checking its hash) and
// caches it.
func sdkWheelBytes() ([]byte, error) {
	cached := filepath.Join(sdkCacheDir(), sdkWheel)
	if b, err := os.ReadFile(cached); err == nil && hashOf(b) == sdkSHA256 {
		return b, nil
	}
	client := &http.Client{Timeout: time.Minute}
	get := func(u string) ([]byte, error) {
		resp, err := client.Get(u)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	}
	body, err := get(pypiJSON)
	if err != nil {
		return nil, err
	}
	var meta struct {
		Releases map[string][]struct {
			Filename string            `json:"filename"`
			URL      string            `json:"url"`
			Digests  map[string]string `json:"digests"`
		} `json:"releases"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return nil, fmt.Errorf("decode %s: %w", pypiJSON, err)
	}
	base, _ := url.Parse(pypiJSON)
	for _, f := range meta.Releases[sdkVersion] {
		if f.Filename != sdkWheel {
			continue
		}
		// Mirrors answer relative URLs; pypi.org absolute ones.
		ref, err := url.Parse(f.URL)
		if err != nil {
			return nil, err
		}
		wheel, err := get(base.ResolveReference(ref).String())
		if err != nil {
			return nil, err
		}
		if got := hashOf(wheel); got != sdkSHA256 {
			return nil, fmt.Errorf("%s has SHA-256 %s, want %s", sdkWheel, got, sdkSHA256)
		}
		if err := os.MkdirAll(filepath.Dir(cached), 0o755); err == nil {
			_ = os.WriteFile(cached, wheel, 0o644) // a cache: failing to write it costs a download
		}
		return wheel, nil
	}
	return nil, errors.New(sdkWheel + " is not listed by " + pypiJSON)
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
