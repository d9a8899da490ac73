// Package buildinfo says which idgate this is: version, commit and build
// date, stamped at build time with -ldflags -X and otherwise read from the
// Go toolchain's embedded build information.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Stamped at build time, e.g.
//
//	go build -ldflags "-X github.com/idgate/idgate/internal/buildinfo.version=v1.2.3
//	  -X github.com/idgate/idgate/internal/buildinfo.commit=$(git rev-parse HEAD)
//	  -X github.com/idgate/idgate/internal/buildinfo.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// The Dockerfile passes them as build arguments VERSION, COMMIT, BUILD_DATE.
var version, commit, date string

// Info identifies a build.
type Info struct {
	// Version is the release (a tag), the module version, or "devel".
	Version string
	// Commit is the VCS revision, or "unknown".
	Commit string
	// Date is when the binary was built (or the commit's time), or "unknown".
	Date string
	// GoVersion is the toolchain that built the binary.
	GoVersion string
}

var (
	once sync.Once
	info Info
)

// Get returns this binary's build information: the -ldflags stamps where
// set, else what runtime/debug.ReadBuildInfo knows.
func Get() Info {
	once.Do(func() { info = resolve(version, commit, date, debug.ReadBuildInfo) })
	return info
}

// resolve fills what the stamps leave empty from the embedded build info.
func resolve(v, c, d string, read func() (*debug.BuildInfo, bool)) Info {
	in := Info{Version: v, Commit: c, Date: d, GoVersion: runtime.Version()}
	if bi, ok := read(); ok {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && in.Commit == "":
				in.Commit = s.Value
			case s.Key == "vcs.time" && in.Date == "":
				in.Date = s.Value
			}
		}
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
	}
	if in.Version == "" {
		in.Version = "devel"
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	if in.Date == "" {
		in.Date = "unknown"
	}
	return in
}

// String is the one-line form `idgate version` prints.
func (i Info) String() string {
	return fmt.Sprintf("idgate %s (commit %s, built %s, %s)", i.Version, i.Commit, i.Date, i.GoVersion)
}

// Collector is the gauge idgate_build_info{version,commit,goversion} = 1,
// so dashboards can show which build runs and join it to other series.
func (i Info) Collector() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "idgate", Name: "build_info",
		Help:        "Always 1; the labels say which idgate build is running.",
		ConstLabels: prometheus.Labels{"version": i.Version, "commit": i.Commit, "goversion": i.GoVersion}})
	g.Set(1)
	return g
}
