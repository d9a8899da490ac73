package outputs

import (
	"testing"
)

// TestGroupsValueAllocatesOnce: the groups header is built in one
// allocation, sized up front, and still encodes what needs encoding.
func TestGroupsValueAllocatesOnce(t *testing.T) {
	tests := []struct {
		name   string
		groups []string
		want   string
		allocs float64
	}{
		{"one plain group", []string{"admins"}, "admins", 0},
		{"plain groups", []string{"admins", "ml", "data-science/readers"}, "admins,ml,data-science/readers", 1},
		{"encoded group", []string{"a,b", "ml"}, "a%2Cb,ml", 3}, // the encoding is percentEncode's own
		{"dropped group", []string{"ok", "bad\r\n", ""}, "ok", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := groupsValue(tc.groups); got != tc.want {
				t.Fatalf("groupsValue = %q, want %q", got, tc.want)
			}
			if a := testing.AllocsPerRun(100, func() { groupsValue(tc.groups) }); a > tc.allocs {
				t.Fatalf("%v allocations, want at most %v", a, tc.allocs)
			}
		})
	}
}
