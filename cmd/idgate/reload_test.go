package main

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
)

func TestWatchConfigReloads(t *testing.T) {
	idp := mustIdP(t)
	base := plainConfig(idp.Issuer(), "flyte") + "watch_config: true\n"
	in := mustStart(t, base)
	in.waitReady(t)
	path := in.configPath
	docs := func() codes.Code {
		return codes.Code(check(t, in, checkRequest("/docs", nil)).GetStatus().GetCode())
	}
	if docs() == codes.OK {
		t.Fatal("/docs public before the reload")
	}
	if err := os.WriteFile(path, []byte(base+"routes: [{path_prefix: /docs, public: true}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in.eventually(t, "reload of a good file", func() bool { return docs() == codes.OK })

	if err := os.WriteFile(path, []byte(base+"routes: [{path_prefix: docs}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in.eventually(t, "refusal of a bad file", func() bool { return strings.Contains(in.logs.String(), "configuration reload refused") })
	if docs() != codes.OK {
		t.Fatal("a refused reload changed the configuration")
	}
	if !strings.Contains(in.logs.String(), "routes[0].path_prefix") {
		t.Fatalf("the refusal does not name the key:\n%s", in.logs)
	}
}
