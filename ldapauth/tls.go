package ldapauth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// tlsConfig trusts the CAs of ca_file (or the system's roots) for the
// name server_name (or host). The chain and the name are checked in
// VerifyConnection, as crypto/tls's own example does, rather than by the
// handshake itself: so the reason for a refusal is kept in s.tlsErr,
// which go-ldap's StartTLS would otherwise flatten into text.
func (s *session) tlsConfig(host string) (*tls.Config, error) {
	var roots *x509.CertPool // nil: the system's
	if s.c.CAFile != "" {
		var err error
		if roots, err = readCA(s.c.CAFile); err != nil {
			return nil, err
		}
	}
	name := s.c.ServerName
	if name == "" {
		name = host
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         name,
		InsecureSkipVerify: true, // verified below, with the same checks
		VerifyConnection: func(cs tls.ConnectionState) error {
			s.tlsErr = verify(cs, roots, name)
			return s.tlsErr
		},
	}, nil
}

// verify checks the server's chain up to roots and its name.
func verify(cs tls.ConnectionState, roots *x509.CertPool, name string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the server sent no certificate")
	}
	opts := x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}
