package main

import (
	"encoding/json"
	"reflect"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
)

// TestCheckInput: the input has the plugin's shape: the request under its
// JSON field names, parsed_path unescaped then split (%2F splits too), parsed_query with every value,
// parsed_body for JSON and forms, truncated_body from the partial-body
// header or a short body.
func TestCheckInput(t *testing.T) {
	req := func(path, ct, body string, extra map[string]string) *authv3.CheckRequest {
		h := map[string]string{":path": path, "content-type": ct}
		for k, v := range extra {
			h[k] = v
		}
		return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
			Source: &authv3.AttributeContext_Peer{Principal: "spiffe://a/b"},
			Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
				Method: "POST", Path: path, Headers: h, Body: body}}}}
	}
	cases := []struct {
		name      string
		req       *authv3.CheckRequest
		path      []string
		query     map[string]any
		body      any
		truncated bool
	}{
		{"json", req("/api/a%2Fb/c?x=1&x=2&y", "application/json", `{"k":[1,"v"]}`, nil),
			[]string{"api", "a", "b", "c"}, map[string]any{"x": []string{"1", "2"}, "y": []string{""}},
			map[string]any{"k": []any{json.Number("1"), "v"}}, false},
		{"form", req("/", "application/x-www-form-urlencoded", "a=1&a=2", nil),
			[]string{""}, map[string]any{}, map[string][]string{"a": {"1", "2"}}, false},
		{"partial body", req("/p", "application/json", `{"k":`, map[string]string{"x-envoy-auth-partial-body": "true"}),
			[]string{"p"}, map[string]any{}, nil, true},
		{"shorter than content-length", req("/p", "application/json", `{}`, map[string]string{"content-length": "10"}),
			[]string{"p"}, map[string]any{}, nil, true},
		{"other content type", req("/p", "text/plain", "hello", nil), []string{"p"}, map[string]any{}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := checkInput(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{"path": in["parsed_path"], "query": in["parsed_query"], "body": in["parsed_body"], "truncated": in["truncated_body"]}
			want := map[string]any{"path": tc.path, "query": tc.query, "body": tc.body, "truncated": tc.truncated}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v\nwant %#v", got, want)
			}
			http := in["attributes"].(map[string]any)["request"].(map[string]any)["http"].(map[string]any)
			if http["method"] != "POST" || http["headers"].(map[string]any)[":path"] == nil {
				t.Fatalf("attributes.request.http: %#v", http)
			}
			if in["source_principal"] != "spiffe://a/b" || in["version"] == nil {
				t.Fatalf("source_principal %v, version %v", in["source_principal"], in["version"])
			}
		})
	}
	if _, err := checkInput(req("/%zz", "", "", nil)); err == nil {
		t.Fatal("a path that does not unescape was read")
	}
	if _, err := checkInput(req("/", "application/json", "{", nil)); err == nil {
		t.Fatal("a broken JSON body was read")
	}
}
