// Package fs is the blob.Store that keeps each blob as a file in a local folder: the default for a
// single-machine installation.
//
// Layout: key "orders/1/doc" is the file <dir>/orders.d/1.d/doc.blob. Folder names end in ".d" and blob
// file names in ".blob", so a key may also be the prefix folder of another ("a" and "a/b" coexist, as
// they do in Azure), and nothing else in the folder (temporary files, stray files) looks like a blob.
package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"esign/internal/blob"
)

const (
	dirSuffix  = ".d"
	fileSuffix = ".blob"
	// Temporary files end in neither suffix, so they are never mistaken for blobs or folders.
	tempPattern = ".tmp-*"
	// A Put whose folder is removed by a concurrent Delete (pruning empty folders) recreates it; this
	// bounds how often.
	putAttempts = 5
)

// Store is a blob.Store on a local folder. It is safe for concurrent use, also by several processes
// sharing the folder.
type Store struct {
	dir string
}

var _ blob.Store = (*Store)(nil)

// New returns a Store keeping blobs under dir, creating it (mode 0700) if needed.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob folder %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create blob folder: %w", err)
	}
	s := &Store{dir: abs}
	if err := s.Ping(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// path returns the file holding key, which must be valid.
func (s *Store) path(key string) string {
	segs := strings.Split(key, "/")
	for i := range segs[:len(segs)-1] {
		segs[i] += dirSuffix
	}
	segs[len(segs)-1] += fileSuffix
	return filepath.Join(s.dir, filepath.Join(segs...))
}

// Put writes data to a temporary file in the blob's folder, syncs it and renames it over the blob, so a
// reader sees the old or the new blob, never a mix, and a crash leaves one of them on disk.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := blob.ValidKey(key); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	path := s.path(key)
	var err error
	for range putAttempts {
		if err = s.write(path, data); !errors.Is(err, iofs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	return nil
}

func (s *Store) write(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := s.mkdirs(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempPattern) // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// The rename is durable only once the folder is synced.
	return syncDir(dir)
}

// mkdirs creates dir and its missing parents below the root, syncing each parent so the new folder
// survives a crash along with the blob written into it.
func (s *Store) mkdirs(dir string) error {
	rel, err := filepath.Rel(s.dir, dir)
	if err != nil || rel == "." {
		return err
	}
	cur := s.dir
	for seg := range strings.SplitSeq(rel, string(filepath.Separator)) {
		parent := cur
		cur = filepath.Join(cur, seg)
		err := os.Mkdir(cur, 0o700)
		if errors.Is(err, iofs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := syncDir(parent); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// Get returns the blob, or an error wrapping blob.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := blob.ValidKey(key); err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get blob %s: %w", key, err)
	}
	data, err := os.ReadFile(s.path(key))
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, fmt.Errorf("get blob %s: %w", key, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", key, err)
	}
	return data, nil
}

// Delete removes the blob and then the folders it leaves empty, so deleted orders leave nothing behind.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidKey(key); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	path := s.path(key)
	err := os.Remove(path)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	s.pruneFrom(filepath.Dir(path))
	return nil
}

var errStop = errors.New("stop listing")

// List walks only the folders the prefix leaves open: "orders/1" walks orders.d.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string) bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list blobs %q: %w", prefix, err)
	}
	root := s.dir
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		// Every key with this prefix has these whole segments first; if they are not a valid key
		// (say "../"), no valid key has the prefix, and the folder must not be walked.
		if blob.ValidKey(prefix[:i]) != nil {
			return nil
		}
		root = filepath.Dir(s.path(prefix[:i] + "/x"))
	}
	err := s.walk(ctx, root, func(path string, d iofs.DirEntry) error {
		if !strings.HasSuffix(d.Name(), fileSuffix) {
			return nil
		}
		key, ok := s.key(path)
		if !ok || !strings.HasPrefix(key, prefix) {
			return nil
		}
		if !fn(key) {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("list blobs %q: %w", prefix, err)
	}
	return nil
}

// RemoveStaleTemps deletes the temporary files of writes that never finished (the process was killed
// between creating the file and renaming it over the blob) last modified before the cutoff, prunes
// the folders that leaves empty, and says how many it deleted. A Put in flight keeps touching its file,
// so a cutoff well in the past (the orphan pass's grace) never deletes a write still under way.
func (s *Store) RemoveStaleTemps(ctx context.Context, before time.Time) (int, error) {
	prefix := strings.TrimSuffix(tempPattern, "*")
	var stale []string
	err := s.walk(ctx, s.dir, func(path string, d iofs.DirEntry) error {
		if !strings.HasPrefix(d.Name(), prefix) {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, iofs.ErrNotExist) { // renamed into place meanwhile
			return nil
		}
		if err != nil {
			return err
		}
		if info.ModTime().Before(before) {
			stale = append(stale, path)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("remove stale temporary blob files: %w", err)
	}
	removed := 0
	for _, path := range stale {
		err := os.Remove(path)
		if errors.Is(err, iofs.ErrNotExist) { // removed meanwhile (another replica's orphan pass)
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("remove stale temporary blob file: %w", err)
		}
		removed++
		s.pruneFrom(filepath.Dir(path))
	}
	return removed, nil
}

// walk calls visit for each regular file under root in blob folders (Put writes only into folders
// named with dirSuffix; others are skipped), ignoring what a concurrent Delete removed meanwhile
// and a root that does not exist.
func (s *Store) walk(ctx context.Context, root string, visit func(path string, d iofs.DirEntry) error) error {
	return filepath.WalkDir(root, func(path string, d iofs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case path == root:
			return nil
		case d.IsDir():
			if !strings.HasSuffix(d.Name(), dirSuffix) {
				return iofs.SkipDir
			}
			return nil
		case !d.Type().IsRegular():
			return nil
		}
		return visit(path, d)
	})
}

// pruneFrom removes dir and its parents below the root while they are empty, after Delete and
// RemoveStaleTemps. Best effort: removing a folder fails harmlessly when it is not empty (or a Put
// just filled it), and a Put that finds its folder gone recreates it.
func (s *Store) pruneFrom(dir string) {
	for ; dir != s.dir && strings.HasPrefix(dir, s.dir); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
}

// key is the inverse of path; ok is false for files that path would not produce.
func (s *Store) key(path string) (string, bool) {
	rel, err := filepath.Rel(s.dir, path)
	if err != nil {
		return "", false
	}
	segs := strings.Split(filepath.ToSlash(rel), "/")
	for i, seg := range segs {
		suffix := dirSuffix
		if i == len(segs)-1 {
			suffix = fileSuffix
		}
		var ok bool
		if segs[i], ok = strings.CutSuffix(seg, suffix); !ok {
			return "", false
		}
	}
	key := strings.Join(segs, "/")
	return key, blob.ValidKey(key) == nil
}

// Ping checks that the folder exists and a file can be created in it.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ping blob folder: %w", err)
	}
	fi, err := os.Stat(s.dir)
	if err != nil {
		return fmt.Errorf("ping blob folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("ping blob folder: %s is not a folder: %w", s.dir, syscall.ENOTDIR)
	}
	f, err := os.CreateTemp(s.dir, tempPattern)
	if err != nil {
		return fmt.Errorf("ping blob folder: not writable: %w", err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("ping blob folder: %w", err)
	}
	return nil
}
