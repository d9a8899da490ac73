package decision

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/idgate/idgate/identity"
)

// slowRemovals is the definition removals must match.
func slowRemovals(s *stripList, set []string, headers map[string]string) []string {
	var out []string
	for _, n := range s.all {
		if !slices.Contains(set, n) {
			out = append(out, n)
		}
	}
	for n := range headers {
		norm := strings.ReplaceAll(strings.ToLower(n), "_", "-")
		family := slices.ContainsFunc(stripPrefixes[:], func(p string) bool { return strings.HasPrefix(norm, p) })
		spelled := norm != n && (slices.Contains(s.all, norm) || norm == "flyte-authorization")
		if (family || spelled) && !slices.Contains(out, n) && !slices.Contains(set, n) {
			out = append(out, n)
		}
	}
	return out
}

func TestRemovals(t *testing.T) {
	s := newStripList([]string{"kubeflow-userid", "kubeflow-groups", "x-flyte-identity", "x-user"}, []string{"X-Extra "})
	tests := []struct {
		name    string
		set     []string
		headers map[string]string
	}{
		{"nothing set", nil, map[string]string{"accept": "*/*"}},
		{"identity set", []string{"kubeflow-userid", "kubeflow-groups", "x-flyte-identity"}, map[string]string{":path": "/"}},
		{"set name outside the list", []string{"x-other", "x-user"}, nil},
		{"x-auth-request family sent", []string{"kubeflow-userid"}, map[string]string{"x-auth-request-role": "admin", "x-auth-request-user": "a"}},
		{"underscore spellings", []string{"kubeflow-userid"}, map[string]string{"kubeflow_userid": "root", "kubeflow_groups": "admins",
			"x_flyte_identity": "x", "x_amzn_oidc_data": "x", "Kubeflow_Userid": "root", "x_extra": "1", "flyte_authorization": "Bearer junk",
			"x_request_id": "1", "user-agent": "u"}},
		{"other proxies' families", nil, map[string]string{"x-goog-authenticated-user-email": "a", "x-pomerium-jwt-assertion": "j",
			"x_pomerium_claim_email": "a", "cf-access-jwt-assertion": "j", "cf_access_authenticated_user_email": "a", "x-pomeriumx": "no"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, unusual := s.scan(tc.headers)
			for round := range 2 { // computed, then cached
				got := s.removals(named(tc.set...), tc.headers)
				want := slowRemovals(&s, tc.set, tc.headers)
				if scanned := s.removalsScanned(named(tc.set...), tc.headers, unusual); !sameSet(scanned, want) {
					t.Fatalf("round %d: after scan, removals = %v, want %v", round, scanned, want)
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("round %d: removals = %v, want %v", round, got, want)
				}
			}
		})
	}
}

func TestRemovalsSharedListIsNotWrittenByAppend(t *testing.T) {
	s := newStripList([]string{"kubeflow-userid"}, nil)
	a := s.removals(named("kubeflow-userid"), nil)
	_ = append(a, "cookie")
	b := s.removals(named("kubeflow-userid"), nil)
	if len(b) != len(a) || cap(b) != len(b) || slices.Contains(b, "cookie") {
		t.Fatalf("shared list changed: %v (cap %d)", b, cap(b))
	}
}

func TestRemovalsManyNames(t *testing.T) {
	var extra []string
	for i := range 80 { // more than the 64 the cache's bit mask covers
		extra = append(extra, fmt.Sprintf("x-extra-%d", i))
	}
	s := newStripList([]string{"kubeflow-userid"}, extra)
	got := s.removals(named("kubeflow-userid", "x-extra-70"), nil)
	if len(got) != len(s.all)-2 || slices.Contains(got, "x-extra-70") {
		t.Fatalf("removals = %d names", len(got))
	}
	spoofed := s.spoofed(map[string]string{"x-extra-75": "1", "kubeflow-userid": "a", "x-auth-request-x": "1"})
	if !slices.Equal(spoofed, []string{"kubeflow-userid", "x-extra-75", "x-auth-request-*"}) {
		t.Fatalf("spoofed = %v", spoofed)
	}
}

// TestConfiguredUnderscoreNameStripsEverySpelling: outputs.strip_headers
// holding x_custom strips x-custom and X_Custom too, which WSGI reads alike.
func TestConfiguredUnderscoreNameStripsEverySpelling(t *testing.T) {
	s := newStripList([]string{"kubeflow-userid"}, []string{"X_Custom"})
	got := s.removals(nil, map[string]string{"x_custom": "a", "x-custom": "b", "x_cUSTOM": "c"})
	for _, n := range []string{"x_custom", "x-custom", "x_cUSTOM"} {
		if !slices.Contains(got, n) {
			t.Errorf("%s not removed: %v", n, got)
		}
	}
}

func TestSpoofed(t *testing.T) {
	s := newStripList([]string{"kubeflow-userid"}, nil)
	tests := []struct {
		name    string
		headers map[string]string
		want    []string
	}{
		{"clean", map[string]string{"accept": "*/*", "authorization": "Bearer x"}, nil},
		{"in strip-list order", map[string]string{"x-forwarded-user": "a", "kubeflow-userid": "b"}, []string{"kubeflow-userid", "x-forwarded-user"}},
		{"family beyond the list is one label", map[string]string{"x-auth-request-a": "1", "x-auth-request-b": "2"}, []string{"x-auth-request-*"}},
		{"underscore spelling reported by its normal name", map[string]string{"kubeflow_groups": "admins", "x_amzn_oidc_data": "x"},
			[]string{"kubeflow-groups", "x-amzn-oidc-data"}},
		{"other proxies", map[string]string{"remote_user": "a", "x-webauth-user": "b", "x-pomerium-jwt-assertion": "j",
			"x_pomerium_claim_email": "e", "cf-access-jwt-assertion": "j", "x-goog-authenticated-user-id": "i"},
			[]string{"remote-user", "x-webauth-user", "x-goog-authenticated-user-*", "x-pomerium-*", "cf-access-*"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.spoofed(tc.headers); !slices.Equal(got, tc.want) {
				t.Fatalf("spoofed = %v, want %v", got, tc.want)
			}
		})
	}
}

func BenchmarkRemovals(b *testing.B) {
	s := newStripList([]string{"kubeflow-userid", "kubeflow-groups", "x-flyte-identity"}, nil)
	set := named("kubeflow-userid", "kubeflow-groups", "x-flyte-identity")
	headers := map[string]string{":authority": "runs", ":method": "GET", ":path": "/api", "authorization": "Bearer x",
		"user-agent": "flytekit", "accept": "application/json", "x-request-id": "1"}
	b.ReportAllocs()
	for b.Loop() {
		_, unusual := s.scan(headers)
		_ = s.removalsScanned(set, headers, unusual)
	}
}

// named makes headers (names only) for removals.
func named(names ...string) []identity.Header {
	hs := make([]identity.Header, len(names))
	for i, n := range names {
		hs[i].Name = n
	}
	return hs
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
