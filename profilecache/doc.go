// Package profilecache is a bounded in-process LRU in front of an optional
// Redis (standalone, cluster or sentinel) shared by every idgate replica. It
// stores opaque values with a TTL, their encoding the caller's; what it
// writes to Redis is sealed (AES-256-GCM, bound to the Redis key) so Redis
// is trusted with availability only, never with identity.
package profilecache
