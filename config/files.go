package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s: PEM type %q, want \"PRIVATE KEY\" or \"EC PRIVATE KEY\"", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: %T, want an EC P-256 key", path, key)
	}
	if ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s: curve %s, want P-256", path, ec.Curve.Params().Name)
	}
	return ec, nil
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
