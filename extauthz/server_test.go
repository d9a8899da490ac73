package extauthz

import (
	"context"
	"errors"
	"os"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/decidertest"
)

func mustFixture(t testing.TB, name string) *authv3.CheckRequest {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	req := &authv3.CheckRequest{}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(data, req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

func TestTranslateFixtures(t *testing.T) {
	tests := []struct {
		fixture, wantPath, wantUserID, wantToken, wantID string
	}{
		{"envoy-check-request.json", "/flyteidl2.workflow.RunService/CreateRun", "root@example.com,admin@example.com", "Bearer TOKEN", "9f0b5c0e-1d2f-4a39-9a6b-3e5f1c2d7a80"},
		{"envoy-header-map-request.json", "/pipeline/apis/v2beta1/runs", "root,admin", "Bearer TOKEN", ""},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			req, ok := Translate(mustFixture(t, tc.fixture))
			if !ok {
				t.Fatal("not translated")
			}
			if tc.wantID == "" && len(req.ID) == 24 { // none sent: a random one
				tc.wantID = req.ID
			}
			if req.Path != tc.wantPath || req.Headers["kubeflow-userid"] != tc.wantUserID || req.ID != tc.wantID {
				t.Fatalf("got path=%q userid=%q id=%q", req.Path, req.Headers["kubeflow-userid"], req.ID)
			}
			if req.Headers["authorization"] != tc.wantToken && req.Headers["flyte-authorization"] != tc.wantToken {
				t.Fatalf("token header lost: %v", req.Headers)
			}
		})
	}
}

func TestTranslateLowersMixedCase(t *testing.T) {
	req, _ := Translate(&authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Headers: map[string]string{"KubeFlow-UserID": "a", "kubeflow-userid": "b"}},
	}}})
	if v := req.Headers["kubeflow-userid"]; v != "a,b" && v != "b,a" {
		t.Fatalf("kubeflow-userid = %q", v)
	}
}

func TestCheckResponses(t *testing.T) {
	id := &identity.Identity{Issuer: "i", Subject: "s", Degraded: "userinfo_timeout"}
	tests := []struct {
		name     string
		req      *authv3.CheckRequest
		decider  decidertest.Fixed
		wantCode codes.Code
		wantHTTP int
		wantErr  bool
	}{
		{"no http attributes is a deny", &authv3.CheckRequest{}, decidertest.Fixed{}, codes.PermissionDenied, 400, false},
		{"401 is unauthenticated", mustFixture(t, "envoy-check-request.json"),
			decidertest.Fixed{Result: decision.Result{Reply: decision.Reply{Status: 401, Reason: "expired", Message: "invalid token: expired"}}}, codes.Unauthenticated, 401, false},
		{"403 is permission denied", mustFixture(t, "envoy-check-request.json"),
			decidertest.Fixed{Result: decision.Result{Reply: decision.Reply{Status: 403, Reason: "forbidden"}}}, codes.PermissionDenied, 403, false},
		{"allowed", mustFixture(t, "envoy-check-request.json"),
			decidertest.Fixed{Result: decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "ok"}, Identity: id,
				Set: []identity.Header{{Name: "kubeflow-userid", Value: "a"}}, Remove: []string{"x-amzn-oidc-data"}}}, codes.OK, 200, false},
		{"internal fault is a grpc error", mustFixture(t, "envoy-check-request.json"), decidertest.Fixed{Err: errors.New("boom")}, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newServer(t, tc.decider, decisionlog.Config{})
			resp, err := s.Check(context.Background(), tc.req)
			if tc.wantErr {
				if err == nil {
					t.Fatal("want a gRPC error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if codes.Code(resp.GetStatus().GetCode()) != tc.wantCode {
				t.Fatalf("code = %v", resp.GetStatus().GetCode())
			}
			if tc.wantCode != codes.OK {
				if got := int(resp.GetDeniedResponse().GetStatus().GetCode()); got != tc.wantHTTP {
					t.Fatalf("http status = %d", got)
				}
				return
			}
			ok := resp.GetOkResponse()
			if len(ok.GetHeaders()) != 1 || ok.GetHeaders()[0].GetAppendAction().String() != "OVERWRITE_IF_EXISTS_OR_ADD" {
				t.Fatalf("headers = %v", ok.GetHeaders())
			}
			// What Envoy receives: the response as marshalled on the wire.
			wire, err := proto.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			got := &authv3.CheckResponse{}
			if err := proto.Unmarshal(wire, got); err != nil {
				t.Fatal(err)
			}
			if md := got.GetDynamicMetadata().GetFields(); md["degraded"].GetStringValue() != "userinfo_timeout" || md["subject"].GetStringValue() != "s" {
				t.Fatalf("metadata = %v", md)
			}
		})
	}
}

// newServer is a Server over d recording into a Recorder built from rc, as
// the app builds one Recorder for both front ends.
func newServer(tb testing.TB, d decision.Decider, rc decisionlog.Config) (*Server, *decisionlog.Recorder) {
	tb.Helper()
	rec, err := decisionlog.New(rc)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(Config{Decider: d, Recorder: rec})
	if err != nil {
		tb.Fatal(err)
	}
	return s, rec
}
