package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestResolve(t *testing.T) {
	embedded := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "v0.9.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}}}, true
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	devel := func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true }
	tests := []struct {
		name          string
		v, c, d       string
		read          func() (*debug.BuildInfo, bool)
		want          Info
		wantGoVersion string
	}{
		{"stamps win", "v1.2.3", "deadbeef", "2026-12-01", embedded, Info{Version: "v1.2.3", Commit: "deadbeef", Date: "2026-12-01"}, "go1.99"},
		{"embedded fills gaps", "", "", "", embedded, Info{Version: "v0.9.0", Commit: "abc123", Date: "2026-01-02T03:04:05Z"}, "go1.99"},
		{"nothing known", "", "", "", none, Info{Version: "devel", Commit: "unknown", Date: "unknown"}, ""},
		{"devel module", "", "", "", devel, Info{Version: "devel", Commit: "unknown", Date: "unknown"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.v, tc.c, tc.d, tc.read)
			if got.Version != tc.want.Version || got.Commit != tc.want.Commit || got.Date != tc.want.Date {
				t.Fatalf("resolve = %+v, want %+v", got, tc.want)
			}
			if tc.wantGoVersion != "" && got.GoVersion != tc.wantGoVersion {
				t.Fatalf("GoVersion = %q, want %q", got.GoVersion, tc.wantGoVersion)
			}
			if got.GoVersion == "" {
				t.Fatal("GoVersion empty")
			}
		})
	}
}

func TestCollector(t *testing.T) {
	in := Info{Version: "v1", Commit: "c1", Date: "d", GoVersion: "go1.99"}
	want := `# HELP idgate_build_info Always 1; the labels say which idgate build is running.
# TYPE idgate_build_info gauge
idgate_build_info{commit="c1",goversion="go1.99",version="v1"} 1
`
	if err := testutil.CollectAndCompare(in.Collector(), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
