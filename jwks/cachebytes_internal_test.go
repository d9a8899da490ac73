package jwks

import (
	"testing"
	"unsafe"
)

// TestCacheEntryFitsSizeClass: the compact entry stays at 112 bytes, the
// allocator's size class below 128; a field added or moved past ends
// costs 16 bytes per cached identity.
func TestCacheEntryFitsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(cacheEntry{}); n > 112 {
		t.Fatalf("cacheEntry is %d bytes, want ≤ 112", n)
	}
}
