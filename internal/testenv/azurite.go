package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// AzuriteConnectionStringEnv names a connection string to use instead of starting Azurite.
const AzuriteConnectionStringEnv = "ESIGN_TEST_AZURITE_CONNECTION_STRING"

// The well-known development account every Azurite accepts.
const azuriteConnectionFormat = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"BlobEndpoint=http://%s/devstoreaccount1;"

var azurite struct {
	mu      sync.Mutex
	started bool
	conn    string
	err     error
}

// AzuriteConnectionString returns a connection string for an Azurite blob service, started on the first
// call (in memory, on a free loopback port) and stopped when Run returns. Tests should each use a fresh
// container.
func AzuriteConnectionString(t testing.TB) string {
	t.Helper()
	if conn := os.Getenv(AzuriteConnectionStringEnv); conn != "" {
		return conn
	}
	azurite.mu.Lock()
	defer azurite.mu.Unlock()
	if !azurite.started {
		azurite.started = true
		azurite.conn, azurite.err = startAzurite()
	}
	if azurite.err != nil {
		t.Fatalf("azurite: %v", azurite.err)
	}
	return azurite.conn
}

func startAzurite() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "tools", "node_modules", ".bin", "azurite-blob")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s not found; run: make tools (npm install in tools/)", bin)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", errors.New("node not found in PATH; install Node.js 20 (Debian package nodejs), then run: make tools (npm install in tools/)")
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--inMemoryPersistence", "--disableTelemetry", "--silent",
		// azblob v1.8.3 sends an API version newer than Azurite 3.35 knows.
		"--skipApiVersionCheck")
	var out SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so stopping it also stops anything node spawned.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case err := <-exited:
			return "", fmt.Errorf("%s exited before listening on %s (%v): %s", bin, addr, err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("%s did not listen on %s within 30s: %s", bin, addr, out.String())
		}
	}
	Cleanup(stop)
	return fmt.Sprintf(azuriteConnectionFormat, addr), nil
}
