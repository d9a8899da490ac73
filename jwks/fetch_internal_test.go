package jwks

import (
	"testing"
	"time"
)

func TestRefreshInterval(t *testing.T) {
	tests := []struct {
		name string
		cc   string
		want time.Duration
	}{
		{"absent", "", 15 * time.Minute},
		{"max-age", "public, max-age=600", 10 * time.Minute},
		{"clamped up", "max-age=5", time.Minute},
		{"clamped down", "max-age=86400", time.Hour},
		{"huge", "max-age=999999999999999999", time.Hour},
		{"no-store", "no-store", time.Minute},
		{"garbage", "max-age=soon", 15 * time.Minute},
		{"case", "Max-Age=120", 2 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := refreshInterval(tc.cc); got != tc.want {
				t.Fatalf("refreshInterval(%q) = %v, want %v", tc.cc, got, tc.want)
			}
		})
	}
}
