package fs_test

import (
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"esign/internal/blob"
	"esign/internal/blob/blobtest"
	"esign/internal/blob/fs"
)

func newStore(t testing.TB, dir string) *fs.Store {
	t.Helper()
	s, err := fs.New(dir)
	if err != nil {
		t.Fatalf("fs.New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return newStore(t, t.TempDir())
	})
}

func BenchmarkPutGet(b *testing.B) {
	blobtest.Benchmark(b, newStore(b, b.TempDir()))
}

func TestNewCreatesPrivateFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "blobs")
	newStore(t, dir)
	assertMode(t, dir, 0o700|iofs.ModeDir)
}

func TestNewRejectsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.New(file); err == nil {
		t.Fatal("New on a regular file succeeded")
	}
}

func TestLayoutAndModes(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	if err := s.Put(t.Context(), "orders/1/doc", []byte("pdf")); err != nil {
		t.Fatal(err)
	}
	assertMode(t, filepath.Join(dir, "orders.d"), 0o700|iofs.ModeDir)
	assertMode(t, filepath.Join(dir, "orders.d", "1.d"), 0o700|iofs.ModeDir)
	file := filepath.Join(dir, "orders.d", "1.d", "doc.blob")
	assertMode(t, file, 0o600)
	if got, err := os.ReadFile(file); err != nil || string(got) != "pdf" {
		t.Fatalf("blob file holds %q, %v", got, err)
	}
	if names := entries(t, filepath.Join(dir, "orders.d", "1.d")); !slices.Equal(names, []string{"doc.blob"}) {
		t.Fatalf("Put left %q in the folder, want only the blob", names)
	}
}

// Keys are checked before any path is built, so nothing can be written outside the folder.
func TestInvalidKeyStaysInside(t *testing.T) {
	parent := t.TempDir()
	s := newStore(t, filepath.Join(parent, "store"))
	for _, key := range []string{"../escape", "a/../../escape", "/tmp/escape"} {
		if err := s.Put(t.Context(), key, []byte("x")); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v", key, err)
		}
	}
	if names := entries(t, parent); !slices.Equal(names, []string{"store"}) {
		t.Fatalf("parent folder holds %q", names)
	}
}

func TestListSkipsForeignFiles(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	if err := s.Put(t.Context(), "x/real", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// What a crash mid-Put leaves, and what a person might drop in the folder.
	for _, name := range []string{
		"x.d/.tmp-123456", "x.d/notes.txt", "x.d/bad name.blob", "plain/y.blob", "x.d/sub/z.blob", ".tmp-9",
	} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	if err := s.List(t.Context(), "", func(key string) bool { got = append(got, key); return true }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"x/real"}) {
		t.Fatalf("List = %q, want [x/real]", got)
	}
}

func TestDeletePrunesEmptyFolders(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	ctx := t.Context()
	for _, key := range []string{"orders/1/a", "orders/1/b", "orders/2/a"} {
		if err := s.Put(ctx, key, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"orders/1/a", "orders/1/b"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if names := entries(t, filepath.Join(dir, "orders.d")); !slices.Equal(names, []string{"2.d"}) {
		t.Fatalf("orders.d holds %q after deleting order 1, want [2.d]", names)
	}
	if err := s.Delete(ctx, "orders/2/a"); err != nil {
		t.Fatal(err)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Fatalf("root holds %q after deleting every blob", names)
	}
}

// What a process killed mid-Put leaves (a temporary file beside the blobs) is deleted once it is
// older than the cutoff, with the folders it alone kept; a fresh one (a write in flight), blobs and
// files that are not ours stay.
func TestRemoveStaleTemps(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	ctx := t.Context()
	if err := s.Put(ctx, "orders/1/doc", []byte("v")); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	plant := func(name string, age time.Duration) string {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("half a blob"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return path
	}
	oldBeside := plant("orders.d/1.d/.tmp-111", 2*time.Hour)
	oldAlone := plant("orders.d/2.d/.tmp-222", 2*time.Hour)
	oldRoot := plant(".tmp-333", 2*time.Hour)
	fresh := plant("orders.d/1.d/.tmp-444", time.Minute)
	foreign := plant("other/.tmp-555", 2*time.Hour) // not a blob folder: not ours to clean

	n, err := s.RemoveStaleTemps(ctx, now.Add(-time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("RemoveStaleTemps = %d, %v; want the 3 old temporary files", n, err)
	}
	for _, path := range []string{oldBeside, oldAlone, oldRoot, filepath.Dir(oldAlone)} {
		if _, err := os.Stat(path); !errors.Is(err, iofs.ErrNotExist) {
			t.Errorf("%s survived (%v)", path, err)
		}
	}
	for _, path := range []string{fresh, foreign} {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s was deleted: %v", path, err)
		}
	}
	if got, err := s.Get(ctx, "orders/1/doc"); err != nil || string(got) != "v" {
		t.Errorf("the blob beside them: %q, %v", got, err)
	}
}

func TestPingFailsWithoutFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	s := newStore(t, dir)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping succeeded after the folder was removed")
	}
}

// CI runs as root, which writes through permission bits, so "not writable" is shown with a file where
// the folder should be.
func TestPingFailsOnFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	s := newStore(t, dir)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Fatalf("Ping left %q behind", names)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping succeeded with a file in place of the folder")
	}
}

func assertMode(t *testing.T, path string, want iofs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode(), want)
	}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}
