// Package seal encrypts the registry's secrets at rest (BMC passwords,
// build tokens) with AES-256-GCM under one key kept in a file beside the
// database (DATA/secret.key, mode 0600).
//
// A sealed value is text, so it fits the column the plaintext used:
//
//	enc:v1:BASE64(12-byte nonce || ciphertext || 16-byte tag)
//	enc:v2:BASE64(12-byte nonce || ciphertext || 16-byte tag)
//
// A v2 value is bound to what it belongs to (SealFor's context, e.g. "bmc
// password of system web001 at 10.0.1.11"), which is the AEAD's associated
// data: copied to another row, it does not open (OpenFor).
//
// Open and OpenFor refuse a value that was sealed under another key, for
// another context, or altered, with ErrWrongKey: never garbage.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/provision/provision/internal/durable"
)

// prefix starts every sealed value; prefixV1 and prefixV2 tell the
// versions apart.
const (
	prefix   = "enc:"
	prefixV1 = "enc:v1:"
	prefixV2 = "enc:v2:"
)

// ErrWrongKey is the error of a value that does not open with the key (and
// context).
var ErrWrongKey = errors.New("seal: the value was sealed with another key or for something else, or altered")

// ErrUnbound is OpenFor's error for a value sealed without a context (v1):
// one that could have been copied from anywhere.
var ErrUnbound = errors.New("seal: the value is not bound to what it belongs to (sealed by an older version)")

// Key seals and opens values; it is safe for concurrent use.
type Key struct {
	aead cipher.AEAD
}

// New returns the key of 32 raw bytes.
func New(raw []byte) (*Key, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("seal: a key is 32 bytes, not %d", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Key{aead: aead}, nil
}

// Sealed reports whether s is a sealed value.
func Sealed(s string) bool { return strings.HasPrefix(s, prefix) }

// Bound reports whether s is a sealed value bound to a context (v2).
func Bound(s string) bool { return strings.HasPrefix(s, prefixV2) }

// Seal encrypts plain under a fresh random nonce; "" stays "".
func (k *Key) Seal(plain string) string { return k.seal(prefixV1, plain, nil) }

// SealFor is Seal bound to context: only OpenFor with the same context
// opens it.
func (k *Key) SealFor(plain, context string) string {
	return k.seal(prefixV2, plain, associated(context))
}

func (k *Key) seal(prefix, plain string, ad []byte) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand)
	return prefix + base64.StdEncoding.EncodeToString(k.aead.Seal(nonce, nonce, []byte(plain), ad))
}

// associated is the AEAD's associated data of a context: a label of its
// own, so that no context is the empty one of v1.
func associated(context string) []byte { return []byte("provision seal v2\x00" + context) }

// Open decrypts a value sealed by Seal; "" stays "". A value that is not
// sealed, is bound (SealFor), or does not open with k, is an error.
func (k *Key) Open(sealed string) (string, error) {
	if Bound(sealed) {
		return "", errors.New("seal: the value is bound to a context")
	}
	return k.open(prefixV1, sealed, nil)
}

// OpenFor decrypts a value sealed by SealFor for context; "" stays "". A
// value sealed for another context is ErrWrongKey; one sealed by Seal,
// bound to nothing, is ErrUnbound.
func (k *Key) OpenFor(sealed, context string) (string, error) {
	if strings.HasPrefix(sealed, prefixV1) {
		return "", ErrUnbound
	}
	return k.open(prefixV2, sealed, associated(context))
}

func (k *Key) open(prefix, sealed string, ad []byte) (string, error) {
	if sealed == "" {
		return "", nil
	}
	b64, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", errors.New("seal: not a sealed value")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	n := k.aead.NonceSize()
	if err != nil || len(raw) < n+k.aead.Overhead() {
		return "", ErrWrongKey
	}
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], ad)
	if err != nil {
		return "", ErrWrongKey
	}
	return string(plain), nil
}

// Load reads the key file at path: 64 hex digits (and a newline).
func Load(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: secret key: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("seal: secret key %s: want 64 hex digits", path)
	}
	return New(raw)
}

// Create writes a new random key to path (mode 0600; it must not exist)
// and returns it. The file and then its directory are synced: a key
// that a crash could lose would leave the secrets sealed with it
// unreadable.
func Create(path string) (*Key, error) { return create(path, syncDir) }

func create(path string, syncDir func(dir string) error) (*Key, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("seal: secret key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal: secret key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal: secret key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("seal: secret key %s: sync its directory: %w", path, err)
	}
	return New(raw)
}

// syncDir fsyncs a directory, which makes a file created in it durable.
var syncDir = durable.SyncDir
