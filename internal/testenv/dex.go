package testenv

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// dexVersion is the Dex that tools/dex pins (v2.45.1, as the pseudo-version
// v0.0.0-20260303133905-11d2eeb52b42). The cached binary's name carries it and a digest of
// tools/dex/go.mod and go.sum, so changing the pin builds a new binary.
const dexVersion = "v2.45.1"

// DexUser is a static password user of the test provider.
type DexUser struct {
	Email    string // the login name on Dex's password form, and the email claim (email_verified: true)
	Password string
	Name     string // the name claim (scope profile)
	Subject  string // the sub claim of this user's ID tokens (Dex encodes its user ID and connector in it)
}

// DexProvider is a running Dex: a real OpenID Connect provider (discovery, JWKS, authorization code
// with PKCE, a password login page at which every user of Users can log in).
type DexProvider struct {
	Issuer   string // http://127.0.0.1:PORT/dex
	ClientID string // a public client (no secret): the code flow uses PKCE
	Users    []DexUser
}

// dexAccount is a static password of the Dex configuration.
type dexAccount struct {
	DexUser
	userID   string // Dex's user ID, from which it derives Subject
	username string // preferred_username
}

// dexAccounts are the people who can log in at every test Dex.
var dexAccounts = []dexAccount{
	{DexUser: DexUser{Email: "alice@example.com", Password: "alice-password", Name: "Alice Andersen"},
		userID: "0a6f3e38-alice", username: "alice"},
	{DexUser: DexUser{Email: "bob@example.com", Password: "bob-password", Name: "Bob Berg"},
		userID: "6c1b2d9e-bob", username: "bob"},
}

// dexClientID names the one client of every test Dex.
const dexClientID = "esign-test"

var dexSetup struct {
	once   sync.Once
	bin    string
	hashes []string // bcrypt hashes of dexAccounts' passwords
	err    error
}

// Dex starts a Dex for this test whose one client (public, PKCE) accepts exactly redirectURIs, and
// stops it when the test ends. The binary is built from tools/dex once per machine (into the user
// cache folder; about two minutes cold); a start then takes a fraction of a second.
func Dex(t testing.TB, redirectURIs ...string) DexProvider {
	t.Helper()
	dexSetup.once.Do(func() {
		dexSetup.bin, dexSetup.err = buildDex()
		for _, a := range dexAccounts {
			if dexSetup.err != nil {
				break
			}
			// Dex refuses hashes below bcrypt's default cost.
			var hash []byte
			hash, dexSetup.err = bcrypt.GenerateFromPassword([]byte(a.Password), bcrypt.DefaultCost)
			dexSetup.hashes = append(dexSetup.hashes, string(hash))
		}
	})
	if dexSetup.err != nil {
		t.Fatalf("dex: %v", dexSetup.err)
	}
	dir := t.TempDir()
	// A port found free can be taken before Dex binds it; try a few.
	for attempt := 1; ; attempt++ {
		p, err := startDex(t, dir, redirectURIs)
		if err == nil {
			return p
		}
		if !errors.Is(err, errDexPortTaken) || attempt == 5 {
			t.Fatalf("dex: %v", err)
		}
	}
}

var errDexPortTaken = errors.New("dex's port was taken")

// startDex starts one Dex, registering its stop with t, and waits until it serves discovery.
func startDex(t testing.TB, dir string, redirectURIs []string) (DexProvider, error) {
	port, err := freePort()
	if err != nil {
		return DexProvider{}, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p := DexProvider{Issuer: "http://" + addr + "/dex", ClientID: dexClientID}
	for _, a := range dexAccounts {
		p.Users = append(p.Users, a.DexUser)
	}
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte(dexConfig(p, addr, redirectURIs)), 0o600); err != nil {
		return DexProvider{}, err
	}

	cmd := exec.Command(dexSetup.bin, "serve", config)
	cmd.Dir = dir
	var out SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return DexProvider{}, fmt.Errorf("start %s: %w", dexSetup.bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	var shown bool // the output went into a failure message already
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() && !shown {
			t.Logf("Dex output (%s):\n%s", p.Issuer, out.String())
		}
	})

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(p.Issuer + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-exited:
			if strings.Contains(out.String(), "address already in use") {
				return DexProvider{}, errDexPortTaken
			}
			shown = true
			return DexProvider{}, fmt.Errorf("exited before serving %s (%v):\n%s", p.Issuer, waitErr, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			shown = true
			return DexProvider{}, fmt.Errorf("did not serve %s/.well-known/openid-configuration within 60 s:\n%s",
				p.Issuer, out.String())
		}
	}
}

func dexConfig(p DexProvider, addr string, redirectURIs []string) string {
	var b strings.Builder
	// Strings are written Go-quoted: a valid YAML double-quoted scalar for these ASCII values.
	fmt.Fprintf(&b, "issuer: %q\nstorage:\n  type: memory\nweb:\n  http: %q\n", p.Issuer, addr)
	b.WriteString("logger:\n  level: info\n")
	b.WriteString("oauth2:\n  skipApprovalScreen: true\n  responseTypes: [code]\n")
	b.WriteString("enablePasswordDB: true\nstaticPasswords:\n")
	for i, a := range dexAccounts {
		fmt.Fprintf(&b, "- email: %q\n  hash: %q\n  name: %q\n  username: %q\n  preferredUsername: %q\n  userID: %q\n",
			a.Email, dexSetup.hashes[i], a.Name, a.username, a.username, a.userID)
	}
	fmt.Fprintf(&b, "staticClients:\n- id: %q\n  name: esign tests\n  public: true\n  redirectURIs:", p.ClientID)
	if len(redirectURIs) == 0 {
		b.WriteString(" []")
	}
	b.WriteString("\n")
	for _, u := range redirectURIs {
		fmt.Fprintf(&b, "  - %q\n", u)
	}
	return b.String()
}

func init() {
	for i := range dexAccounts {
		dexAccounts[i].Subject = dexSubject(dexAccounts[i].userID, "local")
	}
}

// dexSubject is the sub claim Dex issues for a user of a connector (the password database is the
// connector "local"): base64url without padding of the protobuf IDTokenSubject{user_id = 1,
// conn_id = 2}.
func dexSubject(userID, connectorID string) string {
	var b []byte
	for i, s := range []string{userID, connectorID} {
		if len(s) > 127 {
			panic("testenv: dex subject part too long for a one-byte length")
		}
		b = append(b, byte((i+1)<<3|2), byte(len(s)))
		b = append(b, s...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// buildDex builds tools/dex's Dex into the user cache folder unless it is there already. A file lock
// makes test processes that start at the same time build it once; the build goes to a temporary name
// first, so nobody sees half a file.
func buildDex() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	toolDir := filepath.Join(root, "tools", "dex")
	sum := sha256.New()
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(toolDir, name))
		if err != nil {
			return "", fmt.Errorf("the Dex tool module: %w", err)
		}
		sum.Write(data)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "esign", "dex-"+dexVersion+"-"+hex.EncodeToString(sum.Sum(nil))[:12])
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // another process built it while we waited
	}
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	cmd := exec.Command("go", "-C", toolDir, "build", "-o", tmp, "github.com/dexidp/dex/cmd/dex")
	// No cgo: the memory storage needs no SQLite, and the build is faster and needs no C compiler.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("build Dex (go -C %s build github.com/dexidp/dex/cmd/dex): %w\n%s", toolDir, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	return bin, nil
}
