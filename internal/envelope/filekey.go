package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// FileKeyWrapper wraps data keys with a Tink AES-256-GCM keyset kept in a local file (mode 0600).
// The keyset may hold several keys: new wraps use the primary one, and any key in the set unwraps,
// so rotating (RotateKeyFile) keeps every earlier ciphertext readable.
type FileKeyWrapper struct {
	path string

	mu        sync.RWMutex
	primitive tink.AEAD
	primaryID string
}

var _ KeyWrapper = (*FileKeyWrapper)(nil)

// NewFileKeyWrapper loads the keyset at path; when the file is missing and create is true, it makes a
// new keyset there (directory 0700, file 0600), otherwise it fails.
func NewFileKeyWrapper(path string, create bool) (*FileKeyWrapper, error) {
	handle, err := readKeyset(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		handle, err = keyset.NewHandle(aead.AES256GCMKeyTemplate())
		if err != nil {
			return nil, fmt.Errorf("new keyset: %w", err)
		}
		if err = writeKeyset(path, handle, true); errors.Is(err, fs.ErrExist) {
			// Another process created it first: use theirs.
			handle, err = readKeyset(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	w := &FileKeyWrapper{path: path}
	if err := w.use(handle); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return w, nil
}

func (w *FileKeyWrapper) use(handle *keyset.Handle) error {
	primitive, err := aead.New(handle)
	if err != nil {
		return fmt.Errorf("keyset primitive: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.primitive = primitive
	w.primaryID = strconv.FormatUint(uint64(handle.KeysetInfo().GetPrimaryKeyId()), 10)
	return nil
}

// Wrap encrypts dek with the keyset's primary key; keyID is that key's id.
func (w *FileKeyWrapper) Wrap(_ context.Context, dek, aad []byte) (string, []byte, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	wrapped, err := w.primitive.Encrypt(dek, aad)
	if err != nil {
		return "", nil, fmt.Errorf("wrap with %s: %w", w.path, err)
	}
	return w.primaryID, wrapped, nil
}

// Unwrap decrypts with whichever key of the keyset wrapped it (Tink's output prefix names it).
func (w *FileKeyWrapper) Unwrap(_ context.Context, _ string, wrapped, aad []byte) ([]byte, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	dek, err := w.primitive.Decrypt(wrapped, aad)
	if err != nil {
		return nil, fmt.Errorf("unwrap with %s: %w", w.path, err)
	}
	return dek, nil
}

// PrimaryKeyID is the id new wraps are made with.
func (w *FileKeyWrapper) PrimaryKeyID() string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.primaryID
}

// RotateKeyFile adds a new AES-256-GCM key to the keyset file and makes it primary. Old keys stay, so
// everything wrapped before still unwraps; running services pick the new key up when restarted.
func RotateKeyFile(path string) (newKeyID string, err error) {
	handle, err := readKeyset(path)
	if err != nil {
		return "", fmt.Errorf("key file %s: %w", path, err)
	}
	manager := keyset.NewManagerFromHandle(handle)
	id, err := manager.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return "", fmt.Errorf("add key: %w", err)
	}
	if err := manager.SetPrimary(id); err != nil {
		return "", fmt.Errorf("set primary: %w", err)
	}
	rotated, err := manager.Handle()
	if err != nil {
		return "", fmt.Errorf("rotated keyset: %w", err)
	}
	if err := writeKeyset(path, rotated, false); err != nil {
		return "", fmt.Errorf("key file %s: %w", path, err)
	}
	return strconv.FormatUint(uint64(id), 10), nil
}

func readKeyset(path string) (*keyset.Handle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	handle, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(data)))
	if err != nil {
		return nil, fmt.Errorf("not a Tink keyset: %w", err)
	}
	return handle, nil
}

// writeKeyset writes the keyset with mode 0600 through a temp file and a rename, so a crash never
// leaves half a key file. With exclusive, an existing file is left alone (fs.ErrExist).
func writeKeyset(path string, handle *keyset.Handle, exclusive bool) error {
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(handle, keyset.NewJSONWriter(&buf)); err != nil {
		return fmt.Errorf("encode keyset: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".keyset-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if exclusive {
		// A hard link fails when the target exists, unlike a rename.
		return os.Link(tmp.Name(), path)
	}
	return os.Rename(tmp.Name(), path)
}
