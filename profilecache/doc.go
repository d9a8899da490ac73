// Package profilecache is a bounded in-process LRU in front of an optional
// Redis (standalone, cluster or sentinel) shared by every idgate replica. It
// stores opaque values with a TTL; their encoding belongs to the caller.
package profilecache
