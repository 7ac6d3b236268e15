package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// SoftHSMModule is where Debian's softhsm2 package puts the PKCS#11 module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// SoftHSMToken is a SoftHSM2 token and a key label no other caller uses.
type SoftHSMToken struct {
	ModulePath string
	TokenLabel string
	PIN        string
	KeyLabel   string
}

var (
	hsmOnce  sync.Once
	hsmToken SoftHSMToken
	hsmErr   error
	hsmMu    sync.Mutex
	hsmKeys  int
)

// SoftHSM returns the process's SoftHSM2 token and a fresh key label. There is one token per process
// because SoftHSM reads its token folder when the module initialises: a token made later by
// softhsm2-util would be invisible to a module another test already loaded. Fresh key labels keep
// callers apart instead.
func SoftHSM(t testing.TB) SoftHSMToken {
	t.Helper()
	hsmOnce.Do(func() { hsmToken, hsmErr = startSoftHSM() })
	if hsmErr != nil {
		t.Fatal(hsmErr)
	}
	hsmMu.Lock()
	defer hsmMu.Unlock()
	hsmKeys++
	tok := hsmToken
	tok.KeyLabel = fmt.Sprintf("test-kek-%d-%s", hsmKeys, randomHex(4))
	return tok
}

func startSoftHSM() (SoftHSMToken, error) {
	util, err := exec.LookPath("softhsm2-util")
	if err != nil || !fileExists(SoftHSMModule) {
		return SoftHSMToken{}, fmt.Errorf("SoftHSM2 is not installed: apt-get install softhsm2")
	}
	dir, err := os.MkdirTemp("", "esign-softhsm-")
	if err != nil {
		return SoftHSMToken{}, err
	}
	Cleanup(func() { os.RemoveAll(dir) })
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		return SoftHSMToken{}, err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return SoftHSMToken{}, err
	}
	// Set for this process (the module is loaded in-process) before anything loads it.
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		return SoftHSMToken{}, err
	}
	tok := SoftHSMToken{ModulePath: SoftHSMModule, TokenLabel: "esign-test-" + randomHex(4), PIN: "1234"}
	out, err := exec.Command(util, "--init-token", "--free", "--label", tok.TokenLabel, "--pin", tok.PIN, "--so-pin", "5678").CombinedOutput()
	if err != nil {
		return SoftHSMToken{}, fmt.Errorf("softhsm2-util --init-token: %v: %s", err, out)
	}
	return tok, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
