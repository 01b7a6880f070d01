package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files of the generated certificate in the data directory.
const (
	generatedCertFile = "tls-cert.pem"
	generatedKeyFile  = "tls-key.pem"
)

// generatedCertLifetime is how long a generated certificate is valid.
const generatedCertLifetime = 10 * 365 * 24 * time.Hour

// tlsConfig returns the TLS settings of RTMPS: the --tls-cert and --tls-key
// pair, or a self-signed pair generated on first start and kept in --data.
func tlsConfig(c *config) (*tls.Config, error) {
	certFile, keyFile := c.TLSCert, c.TLSKey

	if certFile == "" && keyFile == "" {
		certFile = filepath.Join(c.Data, generatedCertFile)
		keyFile = filepath.Join(c.Data, generatedKeyFile)

		if err := ensureSelfSigned(certFile, keyFile, c.IngestHost); err != nil {
			return nil, fmt.Errorf("self-signed certificate: %w", err)
		}
	}

	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %q and --tls-key %q: %w", certFile, keyFile, err)
	}

	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// ensureSelfSigned writes an ECDSA P-256 certificate for host, localhost and
// 127.0.0.1 unless both files already exist.
func ensureSelfSigned(certFile, keyFile, host string) error {
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)

	if certErr == nil && keyErr == nil {
		return nil
	}

	if !errors.Is(certErr, fs.ErrNotExist) && certErr != nil {
		return certErr
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}

	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}

	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "onair"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(generatedCertLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}

	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	} else if host != "" && host != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}

	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}

	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}

	if err := writePEM(keyFile, "EC PRIVATE KEY", keyDER, 0o600); err != nil {
		return err
	}

	return writePEM(certFile, "CERTIFICATE", der, 0o644)
}

// writePEM writes one PEM block to a new file.
func writePEM(path, kind string, der []byte, perm os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})

	return os.WriteFile(path, data, perm)
}
