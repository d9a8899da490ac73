// Command gendocs writes the configuration reference generated from
// config.yaml between the markers of docs/configuration.md. Run it through
// `go generate ./config`; config's TestConfigurationReferenceIsGenerated
// fails when the two differ.
package main

import (
	"fmt"
	"os"

	"github.com/idgate/idgate/config/internal/refdoc"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gendocs CONFIG_YAML DOC_MD")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(configPath, docPath string) error {
	src, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	ref, err := refdoc.Render(src)
	if err != nil {
		return err
	}
	doc, err := os.ReadFile(docPath)
	if err != nil {
		return err
	}
	out, err := refdoc.Splice(string(doc), ref)
	if err != nil {
		return fmt.Errorf("%s: %w", docPath, err)
	}
	return os.WriteFile(docPath, []byte(out), 0o644)
}
