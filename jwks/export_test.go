package jwks

// CacheLen exposes the verified-token cache size to tests.
func CacheLen(v *Verifier) int { return v.cache.len() }
