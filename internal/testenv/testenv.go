// Package testenv starts the real dependencies tests run against (PostgreSQL, Azurite, SoftHSM2,
// Chromium), once per test process, and stops them when the process ends. Packages that use it call
// os.Exit(testenv.Run(m)) from TestMain.
package testenv

import (
	"sync"
	"testing"
)

var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

// Cleanup registers fn to run when Run returns (last registered runs first).
func Cleanup(fn func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, fn)
}

// Run runs the tests and then stops every service a helper started.
func Run(m *testing.M) int {
	code := m.Run()
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
	return code
}
