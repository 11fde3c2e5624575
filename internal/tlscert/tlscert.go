// Package tlscert gives the API listener its certificate: the operator's
// (--tls-cert, --tls-key), or a self-signed one made at first start and
// kept in the data directory, whose SHA-256 fingerprint clients pin.
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/provision/provision/internal/durable"
)

// Load reads a certificate and its key (PEM).
func Load(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return c, fmt.Errorf("tls certificate %s, key %s: %w", certFile, keyFile, err)
	}
	return c, nil
}

// Ensure loads the self-signed certificate at certFile and keyFile, making
// it first if neither exists: ECDSA P-256, valid ten years, for names
// (host names and IP addresses) and localhost.
func Ensure(certFile, keyFile string, names []string) (tls.Certificate, error) {
	_, errC := os.Stat(certFile)
	_, errK := os.Stat(keyFile)
	if errors.Is(errC, os.ErrNotExist) && errors.Is(errK, os.ErrNotExist) {
		if err := create(certFile, keyFile, names); err != nil {
			return tls.Certificate{}, fmt.Errorf("self-signed certificate %s: %w", certFile, err)
		}
	}
	return Load(certFile, keyFile)
}

func create(certFile, keyFile string, names []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "provision " + host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, n := range append(names, host) {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if n != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(keyFile, "PRIVATE KEY", kb, 0o600); err != nil {
		return err
	}
	if err := writePEM(certFile, "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	if err := durable.SyncDir(filepath.Dir(keyFile)); err != nil {
		return err
	}
	return durable.SyncDir(filepath.Dir(certFile))
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	err = pem.Encode(f, &pem.Block{Type: typ, Bytes: der})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Fingerprint is "sha256:" and the hex SHA-256 of a certificate (DER),
// what `openssl x509 -fingerprint -sha256` prints, without the colons.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ClientConfig is the TLS configuration of a client that trusts ca: a
// fingerprint ("sha256:HEX", colons allowed) pins the server's
// certificate; anything else is a PEM file of certificates to trust
// (a CA, or the server's own certificate). An empty ca trusts the
// system's roots.
func ClientConfig(ca string) (*tls.Config, error) {
	if ca == "" {
		return &tls.Config{MinVersion: tls.VersionTLS12}, nil
	}
	if fp, ok := strings.CutPrefix(strings.ToLower(ca), "sha256:"); ok {
		want := strings.ReplaceAll(fp, ":", "")
		if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("--ca %s: a fingerprint is sha256: and 64 hex digits", ca)
		}
		return &tls.Config{
			MinVersion: tls.VersionTLS12,
			// The pin replaces the name and chain checks: the server's
			// certificate must be the one whose fingerprint was given.
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return errors.New("the server sent no certificate")
				}
				if got := Fingerprint(cs.PeerCertificates[0].Raw); got != "sha256:"+want {
					return fmt.Errorf("the server's certificate is %s, not the pinned sha256:%s", got, want)
				}
				return nil
			},
		}, nil
	}
	b, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", ca)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}
