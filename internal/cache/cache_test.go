package cache

import (
	"fmt"
	"sync"
	"testing"
)

// TestBounds: entries and bytes both stay within their bounds whatever is
// put, and a value too large for the byte bound is refused.
func TestBounds(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        Config
		size, puts int
		maxLen     int
		maxBytes   int64
	}{
		{"entries", Config{MaxEntries: 10}, 1, 100, 10, 10},
		{"bytes", Config{MaxEntries: 100, MaxBytes: 50}, 10, 100, 5, 50},
		{"both, entries first", Config{MaxEntries: 3, MaxBytes: 1000}, 10, 100, 3, 30},
		{"disabled", Config{}, 1, 10, 0, 0},
		{"too large", Config{MaxEntries: 10, MaxBytes: 5}, 6, 10, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New[int, string](tc.cfg, nil)
			for i := range tc.puts {
				c.Put(i, "v", tc.size)
				if c.Len() > tc.maxLen || c.Bytes() > tc.maxBytes {
					t.Fatalf("after %d puts: %d entries, %d bytes; bounds %d, %d", i+1, c.Len(), c.Bytes(), tc.maxLen, tc.maxBytes)
				}
			}
			if c.Len() != tc.maxLen {
				t.Fatalf("%d entries, want %d (full)", c.Len(), tc.maxLen)
			}
			if last, ok := c.Get(tc.puts - 1); tc.maxLen > 0 && (!ok || last != "v") {
				t.Fatal("the last value put is not there")
			}
		})
	}
}

// TestReplaceKeepsBytes: putting a key again replaces its size.
func TestReplaceKeepsBytes(t *testing.T) {
	c := New[string, int](Config{MaxEntries: 10, MaxBytes: 100}, nil)
	c.Put("a", 1, 40)
	c.Put("a", 2, 60)
	if v, _ := c.Get("a"); v != 2 || c.Bytes() != 60 || c.Len() != 1 {
		t.Fatalf("got %d, %d bytes, %d entries", v, c.Bytes(), c.Len())
	}
	c.Put("b", 3, 40)
	if c.Len() != 2 || c.Bytes() != 100 {
		t.Fatalf("%d entries, %d bytes", c.Len(), c.Bytes())
	}
	c.DeleteIf("a", nil)
	if _, ok := c.Get("a"); ok || c.Bytes() != 40 {
		t.Fatalf("delete: %d bytes", c.Bytes())
	}
}

// TestStaleEvictedFirst: a full cache makes room by dropping stale entries
// before live ones.
func TestStaleEvictedFirst(t *testing.T) {
	c := New[int, bool](Config{MaxEntries: 8}, func(stale bool) bool { return stale })
	for i := range 8 {
		c.Put(i, i != 0, 1) // every entry but 0 is stale
	}
	for i := 8; i < 15; i++ {
		c.Put(i, false, 1)
	}
	if _, ok := c.Get(0); !ok {
		t.Fatal("the live entry was evicted while stale ones remained")
	}
}

// TestDeleteIf: only the value the caller judged is removed.
func TestDeleteIf(t *testing.T) {
	c := New[string, int](Config{MaxEntries: 4}, nil)
	c.Put("k", 2, 1)
	c.DeleteIf("k", func(v int) bool { return v == 1 })
	if _, ok := c.Get("k"); !ok {
		t.Fatal("a newer value was removed")
	}
	c.DeleteIf("k", func(v int) bool { return v == 2 })
	if _, ok := c.Get("k"); ok {
		t.Fatal("not removed")
	}
}

// TestConcurrent: readers and writers together keep the bounds (run with
// -race).
func TestConcurrent(t *testing.T) {
	c := New[string, int](Config{MaxEntries: 50, MaxBytes: 400}, nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := fmt.Sprint(w, i%100)
				c.Put(k, i, 1+i%10)
				c.Get(k)
			}
		}()
	}
	wg.Wait()
	if c.Len() > 50 || c.Bytes() > 400 {
		t.Fatalf("%d entries, %d bytes", c.Len(), c.Bytes())
	}
}

func BenchmarkGet(b *testing.B) {
	c := New[[32]byte, *int](Config{MaxEntries: 10000}, nil)
	var k [32]byte
	v := 1
	c.Put(k, &v, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Get(k); !ok {
			b.Fatal("miss")
		}
	}
}
