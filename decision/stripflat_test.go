package decision

import (
	"fmt"
	"slices"
	"testing"
)

// extraStrip is n configured strip headers beyond the built-in list.
func extraStrip(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("x-extra-%d", i)
	}
	return out
}

// TestRemovalsFlatInStripList: with 50 extra strip headers (past the 64
// names the old mask held) a clean request's removals come from the cache,
// allocate nothing, and equal the list the slow path builds.
func TestRemovalsFlatInStripList(t *testing.T) {
	emitted := []string{"kubeflow-userid", "kubeflow-groups", "x-flyte-identity"}
	for _, n := range []int{0, 50, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := newStripList(emitted, extraStrip(n))
			headers := map[string]string{"authorization": "Bearer x", "accept": "*/*"}
			for _, set := range [][]string{emitted, emitted[:1], nil} {
				got := s.removals(named(set...), headers)
				var want []string
				for _, name := range s.all {
					if !slices.Contains(set, name) {
						want = append(want, name)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("set %v: removals %v, want %v", set, got, want)
				}
			}
			set := named(emitted...)
			if a := testing.AllocsPerRun(100, func() { s.removals(set, headers) }); a != 0 {
				t.Fatalf("%v allocations per clean request, want 0", a)
			}
		})
	}
}

// BenchmarkRemovalsStrip: the removals of a clean request with 0 and 50
// extra strip headers.
func BenchmarkRemovalsStrip(b *testing.B) {
	emitted := []string{"kubeflow-userid", "kubeflow-groups", "x-flyte-identity"}
	for _, n := range []int{0, 50} {
		b.Run(fmt.Sprintf("extra=%d", n), func(b *testing.B) {
			s := newStripList(emitted, extraStrip(n))
			set := named(emitted...)
			headers := map[string]string{":authority": "runs", ":method": "GET", ":path": "/api", "authorization": "Bearer x",
				"user-agent": "flytekit", "accept": "application/json", "x-request-id": "1"}
			b.ReportAllocs()
			for b.Loop() {
				_, unusual := s.scan(headers)
				_ = s.removalsScanned(set, headers, unusual)
			}
		})
	}
}
