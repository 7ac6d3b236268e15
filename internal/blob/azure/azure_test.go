package azure_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"esign/internal/blob"
	"esign/internal/blob/azure"
	"esign/internal/blob/blobtest"
	"esign/internal/testenv"
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m))
}

// newStore returns a store on a fresh container, deleted when the test ends.
func newStore(t testing.TB) (*azure.Store, string) {
	t.Helper()
	conn := testenv.AzuriteConnectionString(t)
	name := "test-" + strings.ToLower(rand.Text())[:20]
	s, err := azure.New(t.Context(), conn, name)
	if err != nil {
		t.Fatalf("azure.New: %v", err)
	}
	t.Cleanup(func() {
		if err := deleteContainer(conn, name); err != nil {
			t.Errorf("delete container %s: %v", name, err)
		}
	})
	return s, name
}

func deleteContainer(conn, name string) error {
	c, err := container.NewClientFromConnectionString(conn, name, nil)
	if err != nil {
		return err
	}
	_, err = c.Delete(context.Background(), nil)
	return err
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _ := newStore(t)
		return s
	})
}

func BenchmarkPutGet(b *testing.B) {
	s, _ := newStore(b)
	blobtest.Benchmark(b, s)
}

func TestNewUsesExistingContainer(t *testing.T) {
	s, name := newStore(t)
	if err := s.Put(t.Context(), "kept", []byte("v")); err != nil {
		t.Fatal(err)
	}
	again, err := azure.New(t.Context(), testenv.AzuriteConnectionString(t), name)
	if err != nil {
		t.Fatalf("New on an existing container: %v", err)
	}
	if got, err := again.Get(t.Context(), "kept"); err != nil || string(got) != "v" {
		t.Fatalf("Get through the second store = %q, %v", got, err)
	}
}

// A deleted container is a broken store, not a store whose blobs are all missing.
func TestMissingContainer(t *testing.T) {
	s, name := newStore(t)
	if err := deleteContainer(testenv.AzuriteConnectionString(t), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // so the cleanup registered by newStore finds a container to delete
		azure.New(context.Background(), testenv.AzuriteConnectionString(t), name)
	})
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping succeeded without the container")
	}
	if _, err := s.Get(t.Context(), "x"); err == nil || errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get without the container = %v, want an error other than ErrNotFound", err)
	}
}

func TestUnreachableFailsFast(t *testing.T) {
	tests := []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"refused", closedPort},
		{"silent", droppingListener},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"+
				"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"+
				"BlobEndpoint=http://%s/devstoreaccount1;", tt.addr(t))
			start := time.Now()
			_, err := azure.New(t.Context(), conn, "unreachable")
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("New succeeded against an unreachable endpoint")
			}
			if elapsed > 7*time.Second {
				t.Fatalf("New took %v to fail, want about 5 s at most: %v", elapsed, err)
			}
			t.Logf("failed after %v: %v", elapsed.Round(time.Millisecond), err)
		})
	}
}

// A server that accepts but never answers is bounded by the caller's deadline.
func TestHungServerHonoursDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		var conns []net.Conn // held open, unanswered, until the listener closes
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	conn := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
		"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
		"BlobEndpoint=http://" + l.Addr().String() + "/devstoreaccount1;"
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	_, err = azure.New(ctx, conn, "hung")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("New against a silent server = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("New took %v with a 1 s deadline", elapsed)
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// droppingListener returns an address whose SYNs go unanswered, as with a firewall that drops packets:
// a listening socket with a full accept queue, which Linux answers by dropping new SYNs.
func droppingListener(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Nobody accepts, so the queue fills after a connection or two; the first dial that times out
	// shows the address now drops SYNs.
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatalf("%s kept accepting connections with a backlog of 0", addr)
	return ""
}

// DeleteMany removes more blobs than one batch holds, ignores missing ones and keeps the others.
func TestDeleteMany(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	var keys []string
	for i := range 300 {
		k := fmt.Sprintf("orders/o/d/v%d", i)
		if err := s.Put(ctx, k, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if err := s.Put(ctx, "orders/o/d/kept", []byte("k")); err != nil {
		t.Fatal(err)
	}
	failed, err := s.DeleteMany(ctx, append(keys, "orders/o/d/missing"))
	if err != nil || len(failed) != 0 {
		t.Fatalf("DeleteMany: failed %v, %v", failed, err)
	}
	var left []string
	if err := s.List(ctx, "orders/", func(k string) bool { left = append(left, k); return true }); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != "orders/o/d/kept" {
		t.Errorf("left after DeleteMany: %v", left)
	}
	if failed, err := s.DeleteMany(ctx, []string{"../escape"}); err == nil || len(failed) != 1 {
		t.Errorf("DeleteMany with an invalid key: failed %v, %v", failed, err)
	}
}
