package config

import (
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/idgate/idgate/signing"
)

// maxFileSize bounds every file the configuration names, so a path such as
// /dev/zero fails instead of exhausting memory.
const maxFileSize = 1 << 20

// readSmallFile reads a file of at most maxFileSize bytes.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	return b, nil
}

// readPasswordFile returns the file's contents without trailing newlines.
// The error never contains the contents.
func readPasswordFile(path string) (string, error) {
	b, err := readSmallFile(path)
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("%s: empty", path)
	}
	if strings.ContainsAny(pw, "\r\n\x00") {
		return "", fmt.Errorf("%s: more than one line", path)
	}
	return pw, nil
}

// ReadSigningKey reads a PEM EC P-256 private key, PKCS#8 ("PRIVATE KEY")
// or SEC1 ("EC PRIVATE KEY"), as [Signing.KeyFile] requires.
func ReadSigningKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := readSmallFile(path)
	if err != nil {
		return nil, err
	}
	key, err := signing.ParsePEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// ReadCertPool reads a PEM bundle of CA certificates, as
// [RedisTLS.CAFile] requires.
func ReadCertPool(path string) (*x509.CertPool, error) {
	b, err := readSmallFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New(path + ": no PEM certificates")
	}
	return pool, nil
}
