// Package heaptest measures what a cache adds to the live heap per entry,
// for the tests that hold caches to a per-identity budget.
package heaptest

import "runtime"

// Live is the heap in use after a full collection.
func Live() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// PerEntry runs fill, which must add n entries and keep nothing else
// alive, and returns the live heap it added per entry. Warm up (the first
// entry, lazily built tables) before calling it.
func PerEntry(n int, fill func()) int64 {
	before := Live()
	fill()
	return (int64(Live()) - int64(before)) / int64(n)
}
