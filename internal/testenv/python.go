package testenv

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// pypiSimple is the index pip uses unless PIP_INDEX_URL says otherwise.
const pypiSimple = "https://pypi.org/simple/"

// PyPIReachable asks the package index pip will use for project's page, so that an offline machine
// is told apart from a failing install (the Python tools the tests pip-install: pyHanko, the
// official Python SDK).
func PyPIReachable(project string) error {
	index := pypiSimple
	if v := os.Getenv("PIP_INDEX_URL"); v != "" {
		index = v
	}
	u := strings.TrimSuffix(index, "/") + "/" + project + "/"
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return fmt.Errorf("package index unreachable: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("package index: GET %s: %s", u, resp.Status)
	}
	return nil
}

// LockFile takes an exclusive lock on path (created if missing) for an install that test binaries
// of several packages may start at once, and returns its release. The lock goes with the process,
// so a binary killed mid-install leaves no stale lock: the next one finds the install incomplete and
// does it again.
func LockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
