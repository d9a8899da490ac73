package cache

import (
	"sync"
	"testing"
)

// TestReadMostly: values are built once and shared while under the bound,
// built each time past it, and racing builders agree on one value.
func TestReadMostly(t *testing.T) {
	c := NewReadMostly[int, *int](3)
	builds := 0
	build := func(i int) func() *int { return func() *int { builds++; v := i; return &v } }
	first := c.GetOrAdd(1, build(1))
	if again := c.GetOrAdd(1, build(1)); again != first || builds != 1 {
		t.Fatalf("not shared: %d builds", builds)
	}
	c.GetOrAdd(2, build(2))
	c.GetOrAdd(3, build(3))
	a, b := c.GetOrAdd(4, build(4)), c.GetOrAdd(4, build(4))
	if a == b || *a != 4 || c.Len() != 3 {
		t.Fatalf("past the bound: shared=%v, %d entries", a == b, c.Len())
	}
	if _, ok := c.Get(4); ok {
		t.Fatal("kept past the bound")
	}

	r := NewReadMostly[string, *int](10)
	var wg sync.WaitGroup
	got := make([]*int, 8)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = r.GetOrAdd("k", func() *int { v := i; return &v }) }()
	}
	wg.Wait()
	for _, g := range got {
		if g != got[0] {
			t.Fatal("racing callers got different values")
		}
	}
}
