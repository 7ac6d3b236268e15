package envelope_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"esign/internal/envelope"
	"esign/internal/order"
	"esign/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

func fileWrapper(t testing.TB, name string) (*envelope.FileKeyWrapper, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys", name+".json")
	w, err := envelope.NewFileKeyWrapper(path, true)
	if err != nil {
		t.Fatal(err)
	}
	return w, path
}

func hsmWrapper(t testing.TB) *envelope.PKCS11KeyWrapper {
	t.Helper()
	tok := testenv.SoftHSM(t)
	w, err := envelope.NewPKCS11KeyWrapper(envelope.PKCS11Config{ModulePath: tok.ModulePath, TokenLabel: tok.TokenLabel,
		PIN: tok.PIN, KeyLabel: tok.KeyLabel, CreateKey: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeyWrappers runs the same checks against every KeyWrapper implementation.
func TestKeyWrappers(t *testing.T) {
	impls := map[string]func(t *testing.T) envelope.KeyWrapper{
		"file":   func(t *testing.T) envelope.KeyWrapper { w, _ := fileWrapper(t, "k"); return w },
		"pkcs11": func(t *testing.T) envelope.KeyWrapper { return hsmWrapper(t) },
	}
	for name, newWrapper := range impls {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			w := newWrapper(t)
			dek := randomBytes(t, 32)
			id, wrapped, err := w.Wrap(ctx, dek, []byte("aad"))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(wrapped, dek) {
				t.Fatal("wrapped key contains the key")
			}
			got, err := w.Unwrap(ctx, id, wrapped, []byte("aad"))
			if err != nil || !bytes.Equal(got, dek) {
				t.Fatalf("unwrap: %v", err)
			}
			_, again, _ := w.Wrap(ctx, dek, []byte("aad"))
			if bytes.Equal(again, wrapped) {
				t.Error("two wraps of the same key are identical (nonce reuse?)")
			}
			if _, err := w.Unwrap(ctx, id, wrapped, []byte("other aad")); err == nil {
				t.Error("unwrap with other associated data succeeded")
			}
			for i := range wrapped {
				bad := bytes.Clone(wrapped)
				bad[i] ^= 0x01
				if _, err := w.Unwrap(ctx, id, bad, []byte("aad")); err == nil {
					t.Fatalf("unwrap of a wrapped key with byte %d flipped succeeded", i)
				}
			}
			if _, err := w.Unwrap(ctx, id, wrapped[:len(wrapped)-1], []byte("aad")); err == nil {
				t.Error("unwrap of a truncated wrapped key succeeded")
			}
			if _, err := w.Unwrap(ctx, id, nil, []byte("aad")); err == nil {
				t.Error("unwrap of nothing succeeded")
			}
		})
	}
}

func TestPKCS11KeyIsFoundAgainAndRotates(t *testing.T) {
	ctx := context.Background()
	tok := testenv.SoftHSM(t)
	cfg := envelope.PKCS11Config{ModulePath: tok.ModulePath, TokenLabel: tok.TokenLabel, PIN: tok.PIN, KeyLabel: tok.KeyLabel}
	if _, err := envelope.NewPKCS11KeyWrapper(cfg); err == nil {
		t.Fatal("a missing key was accepted without CreateKey")
	}
	cfg.CreateKey = true
	first, err := envelope.NewPKCS11KeyWrapper(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	dek := randomBytes(t, 32)
	id, wrapped, err := first.Wrap(ctx, dek, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another process (here: context) with the same label opens what the first wrapped.
	cfg.CreateKey = false
	second, err := envelope.NewPKCS11KeyWrapper(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if got, err := second.Unwrap(ctx, id, wrapped, nil); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("second context: %v", err)
	}
	// Rotation: a new label wraps from now on; the old label still unwraps.
	cfg.KeyLabel, cfg.CreateKey = tok.KeyLabel+"-2", true
	rotated, err := envelope.NewPKCS11KeyWrapper(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer rotated.Close()
	newID, _, err := rotated.Wrap(ctx, dek, nil)
	if err != nil || newID == id {
		t.Fatalf("rotated wrap used key %q (old %q): %v", newID, id, err)
	}
	if got, err := rotated.Unwrap(ctx, id, wrapped, nil); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("old wrap after rotation: %v", err)
	}
	if _, err := envelope.NewPKCS11KeyWrapper(envelope.PKCS11Config{ModulePath: tok.ModulePath, TokenLabel: tok.TokenLabel, PIN: "0000", KeyLabel: "x"}); err == nil {
		t.Error("a wrong PIN was accepted")
	}
}

func TestFileKeyFileModeAndRotation(t *testing.T) {
	ctx := context.Background()
	w, path := fileWrapper(t, "outer")
	for _, p := range []string{path, filepath.Dir(path)} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if info.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", p, info.Mode().Perm(), want)
		}
	}
	dek := randomBytes(t, 32)
	oldID, wrapped, err := w.Wrap(ctx, dek, []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	newID, err := envelope.RotateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reopened, err := envelope.NewFileKeyWrapper(path, false)
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := reopened.Wrap(ctx, dek, []byte("a"))
	if err != nil || id != newID || id == oldID {
		t.Fatalf("after rotation wraps use %q, want the new key %q (old %q): %v", id, newID, oldID, err)
	}
	if got, err := reopened.Unwrap(ctx, oldID, wrapped, []byte("a")); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("a key wrapped before rotation no longer unwraps: %v", err)
	}
	if _, err := envelope.NewFileKeyWrapper(filepath.Join(t.TempDir(), "missing.json"), false); err == nil {
		t.Error("a missing key file was accepted without create")
	}
	garbage := filepath.Join(t.TempDir(), "garbage.json")
	os.WriteFile(garbage, []byte(`{"not":"a keyset"}`), 0o600)
	if _, err := envelope.NewFileKeyWrapper(garbage, true); err == nil {
		t.Error("a file that is not a keyset was accepted")
	}
}

func newEnvelope(t testing.TB) *envelope.Envelope {
	t.Helper()
	inner, _ := fileWrapper(t, "inner")
	outer, _ := fileWrapper(t, "outer")
	return envelope.New(inner, outer)
}

var where = envelope.Binding{ApplicationID: "app", OrderID: "order", DocumentID: "doc", Version: 0}

func TestEnvelopeRoundTrip(t *testing.T) {
	ctx := context.Background()
	envs := map[string]*envelope.Envelope{"files": newEnvelope(t)}
	outer, _ := fileWrapper(t, "outer-hsm")
	envs["hsm+file"] = envelope.New(hsmWrapper(t), outer)
	for name, e := range envs {
		for _, n := range []int{0, 1, 4096, 5 << 20} {
			plaintext := randomBytes(t, n)
			if n >= 5 {
				copy(plaintext, "%PDF-")
			}
			ct, keys, err := e.Encrypt(ctx, plaintext, where)
			if err != nil {
				t.Fatal(err)
			}
			if len(ct) != n+envelope.Overhead {
				t.Errorf("%s: ciphertext of %d bytes is %d long, want %d", name, n, len(ct), n+envelope.Overhead)
			}
			if n >= 5 && bytes.Contains(ct, []byte("%PDF")) {
				t.Errorf("%s: the ciphertext shows the plaintext header", name)
			}
			if len(keys.Inner) == 0 || len(keys.Outer) == 0 || keys.InnerKeyID == "" || keys.OuterKeyID == "" {
				t.Errorf("%s: keys incomplete: %+v", name, keys)
			}
			got, err := e.Decrypt(ctx, ct, keys, where)
			if err != nil || !bytes.Equal(got, plaintext) {
				t.Fatalf("%s: round trip of %d bytes: %v", name, n, err)
			}
		}
	}
}

func TestEnvelopeRefusesWhatWasNotSealedHere(t *testing.T) {
	ctx := context.Background()
	e := newEnvelope(t)
	plaintext := []byte("%PDF-1.7 the document")
	seal := func() ([]byte, order.Keys) {
		ct, keys, err := e.Encrypt(ctx, plaintext, where)
		if err != nil {
			t.Fatal(err)
		}
		return ct, keys
	}
	ct1, keys1 := seal()
	ct2, keys2 := seal()
	if bytes.Equal(ct1, ct2) || bytes.Equal(keys1.Inner, keys2.Inner) || bytes.Equal(keys1.Outer, keys2.Outer) {
		t.Fatal("two seals of the same plaintext share ciphertext or keys")
	}
	elsewhere := func(mut func(*envelope.Binding)) envelope.Binding { b := where; mut(&b); return b }
	cases := map[string]struct {
		ct   []byte
		keys order.Keys
		b    envelope.Binding
	}{
		"other application":    {ct1, keys1, elsewhere(func(b *envelope.Binding) { b.ApplicationID = "app2" })},
		"other order":          {ct1, keys1, elsewhere(func(b *envelope.Binding) { b.OrderID = "order2" })},
		"other document":       {ct1, keys1, elsewhere(func(b *envelope.Binding) { b.DocumentID = "doc2" })},
		"other version":        {ct1, keys1, elsewhere(func(b *envelope.Binding) { b.Version = 1 })},
		"keys of another seal": {ct1, keys2, where},
		"inner key swapped":    {ct1, order.Keys{InnerKeyID: keys2.InnerKeyID, Inner: keys2.Inner, OuterKeyID: keys1.OuterKeyID, Outer: keys1.Outer}, where},
		"no inner key":         {ct1, order.Keys{InnerKeyID: keys1.InnerKeyID, OuterKeyID: keys1.OuterKeyID, Outer: keys1.Outer}, where},
		"zeroed outer key":     {ct1, order.Keys{InnerKeyID: keys1.InnerKeyID, Inner: keys1.Inner, OuterKeyID: keys1.OuterKeyID, Outer: make([]byte, len(keys1.Outer))}, where},
		"truncated":            {ct1[:len(ct1)-1], keys1, where},
		"empty":                {nil, keys1, where},
		"unknown format":       {append([]byte{9}, ct1[1:]...), keys1, where},
	}
	for name, c := range cases {
		if _, err := e.Decrypt(ctx, bytes.Clone(c.ct), c.keys, c.b); !errors.Is(err, envelope.ErrDecrypt) {
			t.Errorf("%s: Open = %v, want ErrDecrypt", name, err)
		}
	}
	for i := range ct1 {
		bad := bytes.Clone(ct1)
		bad[i] ^= 0x80
		if _, err := e.Decrypt(ctx, bad, keys1, where); err == nil {
			t.Fatalf("a ciphertext with byte %d flipped opened", i)
		}
	}
	// Each layer needs its own key: the outer key manager cannot open the inner layer.
	inner, _ := fileWrapper(t, "i")
	outer, _ := fileWrapper(t, "o")
	ct, keys, err := envelope.New(inner, outer).Encrypt(ctx, plaintext, where)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envelope.New(outer, outer).Decrypt(ctx, ct, keys, where); err == nil {
		t.Error("opened with the outer key manager in place of the inner one")
	}
}

func FuzzOpen(f *testing.F) {
	e := newEnvelope(f)
	ct, keys, err := e.Encrypt(context.Background(), []byte("%PDF-1.7 seed"), where)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ct)
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(bytes.Repeat([]byte{1}, envelope.Overhead))
	f.Fuzz(func(t *testing.T, data []byte) {
		pt, err := e.Decrypt(context.Background(), data, keys, where)
		if err == nil && !bytes.Equal(pt, []byte("%PDF-1.7 seed")) {
			t.Fatalf("opened a forged ciphertext to %q", pt)
		}
	})
}

func BenchmarkEnvelope(b *testing.B) {
	ctx := context.Background()
	e := newEnvelope(b)
	for _, size := range []int{1 << 20, 20 << 20} {
		plaintext := randomBytes(b, size)
		b.Run("Seal/"+sizeLabel(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, err := e.Encrypt(ctx, plaintext, where); err != nil {
					b.Fatal(err)
				}
			}
		})
		ct, keys, _ := e.Encrypt(ctx, plaintext, where)
		b.Run("Open/"+sizeLabel(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			buf := make([]byte, len(ct))
			for i := 0; i < b.N; i++ {
				copy(buf, ct) // Open decrypts in place
				if _, err := e.Decrypt(ctx, buf, keys, where); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sizeLabel(n int) string {
	if n >= 1<<20 {
		return string(rune('0'+n>>20/10)) + string(rune('0'+n>>20%10)) + "MB"
	}
	return "small"
}
