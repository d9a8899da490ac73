package deploy

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined, and the index of the stage it belongs to (-1 before any FROM).
type instruction struct {
	Cmd   string // upper case: FROM, RUN, ...
	Args  string
	Stage int
}

// parseDockerfile splits a Dockerfile into instructions.
func parseDockerfile(data string) []instruction {
	var out []instruction
	var cur strings.Builder
	stage := -1
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{Cmd: cmd, Args: strings.TrimSpace(args), Stage: stage})
	}
	for _, line := range strings.Split(data, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") {
			continue
		}
		if strings.HasSuffix(t, `\`) {
			cur.WriteString(strings.TrimSuffix(t, `\`) + " ")
			continue
		}
		cur.WriteString(t)
		flush()
	}
	flush()
	return out
}

// shellWords splits a command line the way sh does for plain words and
// quotes (no expansion, no operators).
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// goBuildCommand finds the `go build` RUN of the build stage and returns its
// environment assignments and argv, with variables expanded as BuildKit
// would for a native build, and the stage's ENV applied.
func goBuildCommand(tb testing.TB, ins []instruction) (env, argv []string) {
	tb.Helper()
	vars := map[string]string{"TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH}
	var buildStage = -2
	for _, in := range ins {
		if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
			buildStage = in.Stage
		}
	}
	if buildStage < 0 {
		tb.Fatalf("no RUN ... go build in a build stage")
	}
	for _, in := range ins {
		if in.Stage != buildStage && in.Stage != -1 {
			continue
		}
		switch in.Cmd {
		case "ARG":
			for _, a := range shellWords(in.Args) {
				if k, v, ok := strings.Cut(a, "="); ok {
					if _, set := vars[k]; !set {
						vars[k] = v
					}
				}
			}
		case "ENV":
			for _, a := range shellWords(in.Args) {
				k, v, _ := strings.Cut(a, "=")
				vars[k] = v
				env = append(env, k+"="+v)
			}
		case "RUN":
			if !strings.Contains(in.Args, "go build") {
				continue
			}
			for _, op := range []string{"&&", "||", ";", "|", "`", "$("} {
				if strings.Contains(in.Args, op) {
					tb.Fatalf("the go build RUN uses %q: keep it one plain command", op)
				}
			}
			words := shellWords(os.Expand(in.Args, func(k string) string { return vars[k] }))
			for len(words) > 0 && strings.HasPrefix(words[0], "--") {
				words = words[1:] // --mount=..., --network=...
			}
			for len(words) > 0 && strings.Contains(words[0], "=") {
				env = append(env, words[0])
				words = words[1:]
			}
			return env, words
		}
	}
	tb.Fatalf("unreachable")
	return nil, nil
}

func TestDockerfileFinalStage(t *testing.T) {
	ins := parseDockerfile(string(MustReadFile(t, "../Dockerfile")))
	last := ins[len(ins)-1].Stage
	var image, user string
	for _, in := range ins {
		if in.Cmd == "HEALTHCHECK" {
			t.Errorf("HEALTHCHECK in stage %d: Kubernetes probes do that", in.Stage)
		}
		if in.Stage != last {
			continue
		}
		switch in.Cmd {
		case "FROM":
			w := shellWords(in.Args)
			for len(w) > 0 && strings.HasPrefix(w[0], "--") {
				w = w[1:]
			}
			image = w[0]
		case "USER":
			user = in.Args
		}
	}
	if image != "scratch" && !strings.HasPrefix(image, "gcr.io/distroless/static") {
		t.Errorf("final image %q, want scratch or distroless static", image)
	}
	uid, _, _ := strings.Cut(user, ":")
	if user == "" || uid == "0" || uid == "root" {
		t.Errorf("final stage USER %q, want a non-root user", user)
	}
}

// TestDockerfileBuildsStaticBinary runs the build stage's go build line on
// the Docker build context (the repo filtered by .dockerignore) and checks
// the binary is statically linked.
func TestDockerfileBuildsStaticBinary(t *testing.T) {
	env, argv := goBuildCommand(t, parseDockerfile(string(MustReadFile(t, "../Dockerfile"))))
	if len(argv) < 2 || argv[0] != "go" || argv[1] != "build" {
		t.Fatalf("build command %v is not go build", argv)
	}
	if !slices.Contains(env, "CGO_ENABLED=0") {
		t.Errorf("go build env %v lacks CGO_ENABLED=0", env)
	}
	if !slices.Contains(argv, "-trimpath") {
		t.Errorf("go build %v lacks -trimpath", argv)
	}
	tmp := t.TempDir()
	ctxDir := filepath.Join(tmp, "src")
	MustCopyBuildContext(t, "..", ctxDir, MustReadFile(t, "../.dockerignore"))
	out := filepath.Join(tmp, "idgate")
	i := slices.Index(argv, "-o")
	if i < 0 || i+1 >= len(argv) {
		t.Fatalf("go build %v has no -o", argv)
	}
	argv[i+1] = out

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = ctxDir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Env = append(cmd.Env, env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", argv, err, b)
	}
	assertStatic(t, out)
	// The build arguments' defaults are stamped into the binary.
	b, err := exec.Command(out, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("idgate version: %v\n%s", err, b)
	}
	for _, want := range []string{"idgate dev\n", "commit: unknown\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("idgate version lacks %q (ldflags -X not applied):\n%s", want, b)
		}
	}
}

func assertStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("open binary: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("binary has PT_INTERP: dynamically linked")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatalf("read DT_NEEDED: %v", err)
	}
	if len(libs) > 0 {
		t.Errorf("binary needs shared libraries %v", libs)
	}
}
