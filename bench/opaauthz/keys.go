package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxJWKS bounds the key set read from --jwks-url.
const maxJWKS = 1 << 20

// fetchJWKS GETs the key set at url within timeout and returns it as the
// JSON text the policy hands to io.jwt.decode_verify; it must hold keys.
// A non-empty alg keeps only the keys of that alg, re-encoded: the load's
// IdP publishes nine keys, where a production IdP publishes one to three,
// and decode_verify parses all of them on every Check.
func fetchJWKS(ctx context.Context, client *http.Client, url, alg string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("opaauthz: jwks: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("opaauthz: jwks: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("opaauthz: jwks %s: %w", url, err)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("opaauthz: jwks %s: status %d", url, resp.StatusCode)
	case len(body) > maxJWKS:
		return "", fmt.Errorf("opaauthz: jwks %s: larger than %d bytes", url, maxJWKS)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return "", fmt.Errorf("opaauthz: jwks %s: %w", url, err)
	}
	if alg != "" {
		kept := set.Keys[:0]
		for _, k := range set.Keys {
			var key struct {
				Alg string `json:"alg"`
			}
			if json.Unmarshal(k, &key) == nil && key.Alg == alg {
				kept = append(kept, k)
			}
		}
		if len(kept) == 0 {
			return "", fmt.Errorf("opaauthz: jwks %s: no keys of alg %s", url, alg)
		}
		set.Keys = kept
		if body, err = json.Marshal(set); err != nil {
			return "", fmt.Errorf("opaauthz: jwks %s: %w", url, err)
		}
	}
	if len(set.Keys) == 0 {
		return "", fmt.Errorf("opaauthz: jwks %s: no keys", url)
	}
	return string(body), nil
}

// loadWhenReachable fetches the key set until it succeeds or wait passes,
// every interval, then loads the policy. The load's IdP (idgate load
// --tokens) starts after the servers it measures, so the key set may not
// be there yet at start; the fetch happens before the first allowed Check,
// outside the measured run.
func loadWhenReachable(ctx context.Context, s *Server, client *http.Client, url, alg string, p Policy,
	timeout, wait, interval time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		jwks, err := fetchJWKS(ctx, client, url, alg, timeout)
		if err == nil {
			p.JWKS = jwks
			return s.Load(ctx, p)
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("opaauthz: no key set within %s", wait), err)
		case <-t.C:
		}
	}
}
