package config

import "fmt"

// minCacheKeyLen is the shortest key that may seal profiles in Redis.
const minCacheKeyLen = 32

// CacheKeys returns the keys that seal profile cache values in Redis, the
// current one first: redis.key_file and previous_key_file when set,
// else the login session keys (a different derivation of the same secret,
// so a value of one never opens as the other). The files are read on every
// call, so a reload picks up a rotated key. Nil without a key; the error
// names the key and never holds a key's bytes.
func (c *Config) CacheKeys() ([][]byte, error) {
	r := c.Redis
	if r.KeyFile == "" {
		return c.Login.SessionKeys(), nil
	}
	var keys [][]byte
	for _, f := range []struct{ key, path string }{
		{"redis.key_file", r.KeyFile},
		{"redis.previous_key_file", r.PreviousKeyFile},
	} {
		if f.path == "" {
			continue
		}
		v, err := readPasswordFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("config: %s: %w", f.key, err)
		}
		k := decodeKey(v)
		if len(k) < minCacheKeyLen {
			return nil, fmt.Errorf("config: %s: must hold at least %d bytes (raw or base64)", f.key, minCacheKeyLen)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// validateCacheKey requires a sealing key whenever Redis is configured:
// whoever can write to Redis must not be able to write a profile idgate
// trusts. Without a key there is no secure fallback that replicas share, so
// the configuration is refused.
func (c *Config) validateCacheKey(p *problems) {
	r := c.Redis
	if r.PreviousKeyFile != "" && r.KeyFile == "" {
		p.addf("redis.previous_key_file", "requires redis.key_file")
	}
	keys, err := c.CacheKeys()
	if err != nil {
		*p = append(*p, err)
		return
	}
	if len(r.Addrs) == 0 {
		return
	}
	if len(keys) == 0 {
		p.addf("redis.key_file", "required with redis.addrs: a key of at least %d bytes that seals profiles in Redis, the same on every replica (login.session_key serves when set)", minCacheKeyLen)
	}
	for _, k := range keys {
		if len(k) < minCacheKeyLen && r.KeyFile == "" {
			p.addf("login.session_key", "seals profiles in Redis (no redis.key_file): must be at least %d bytes", minCacheKeyLen)
			return
		}
	}
}
