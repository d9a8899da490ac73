package userinfo

import (
	"fmt"
	"strings"
	"testing"
)

// TestMemoByteBound: profiles far larger than the memo's per-entry budget
// fill its bytes before its entries; a hit still needs identical bytes.
func TestMemoByteBound(t *testing.T) {
	var m memo
	big := []byte(strings.Repeat("p", 64<<10))
	for i := 0; i < 400; i++ {
		m.put(fmt.Sprint("user", i), big, Entry{Reason: "r"})
	}
	if n := m.cache().Bytes(); n > memoBytes {
		t.Fatalf("memo holds %d bytes, bound %d", n, memoBytes)
	}
	if n := m.cache().Len(); n >= 400 {
		t.Fatalf("memo holds all %d entries of 64 KiB", n)
	}
	m.put("k", []byte("a"), Entry{Reason: "x"})
	if _, ok := m.get("k", []byte("b")); ok {
		t.Fatal("memo hit on different bytes")
	}
	if e, ok := m.get("k", []byte("a")); !ok || e.Reason != "x" {
		t.Fatal("memo miss on the same bytes")
	}
}
