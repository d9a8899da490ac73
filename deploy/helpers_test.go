package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"
)

// docSeparator splits a multi-document YAML stream.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// MustReadFile returns the contents of path or fails the test.
func MustReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return b
}

// MustYAMLDocs returns the non-empty documents of a YAML stream.
func MustYAMLDocs(tb testing.TB, data []byte) [][]byte {
	tb.Helper()
	var docs [][]byte
	for _, d := range docSeparator.Split(string(data), -1) {
		if isBlankYAML(d) {
			continue
		}
		docs = append(docs, []byte(d))
	}
	if len(docs) == 0 {
		tb.Fatalf("no YAML documents")
	}
	return docs
}

// isBlankYAML reports whether a document holds only comments and space.
func isBlankYAML(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// MustYAMLFiles lists the *.yaml files under dir, relative to dir, sorted.
func MustYAMLFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("walk %s: %v", dir, err)
	}
	if len(files) == 0 {
		tb.Fatalf("no YAML files under %s", dir)
	}
	sort.Strings(files)
	return files
}

// unmarshalProtoYAML decodes YAML into a protobuf message strictly: duplicate
// keys, unknown fields and unresolvable Any types are all errors.
func unmarshalProtoYAML(data []byte, m proto.Message) error {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	return protojson.UnmarshalOptions{}.Unmarshal(js, m)
}

// unmarshalStrict decodes YAML into a Go API type, refusing unknown and
// duplicate fields.
func unmarshalStrict(data []byte, v any) error {
	return yaml.UnmarshalStrict(data, v)
}

// sameBytes reports whether two files' contents are identical, ignoring a
// trailing newline difference.
func sameBytes(a, b []byte) bool {
	return bytes.Equal(bytes.TrimRight(a, "\n"), bytes.TrimRight(b, "\n"))
}

// unmarshalLoose decodes YAML ignoring unknown fields.
func unmarshalLoose(data []byte, v any) error {
	return yaml.Unmarshal(data, v)
}
