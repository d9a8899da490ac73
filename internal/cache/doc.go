// Package cache is idgate's one bounded map: a concurrent map bounded both
// in entries and in bytes, evicting stale entries first and otherwise
// arbitrary ones, with lock-shared reads for the hot path.
package cache
