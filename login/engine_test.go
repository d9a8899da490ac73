package login

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
)

// noTokens refuses every bearer token: only the session lets a user in.
type noTokens struct{}

func (noTokens) Verify(context.Context, string) (identity.Identity, error) {
	return identity.Identity{}, errors.New("no tokens here")
}

// userHeader renders the user id as kubeflow-userid.
type userHeader struct{}

func (userHeader) Render(dst []identity.Header, id *identity.Identity, _ string) ([]identity.Header, error) {
	return append(dst, identity.Header{Name: "kubeflow-userid", Value: id.UserID()}), nil
}

func (userHeader) Names() []string { return []string{"kubeflow-userid"} }

// TestFlowIsTheEnginesBrowser: the Flow, given to the decision engine as
// is (no adapter), runs a whole login through Decide: its replies become
// the denied Results with the same status, headers and body, and its
// session lets the user in with idgate's cookies kept from the upstream.
func TestFlowIsTheEnginesBrowser(t *testing.T) {
	e := MustEnv(t, envOptions{})
	eng, err := decision.New(decision.Config{Verifier: noTokens{}, Renderer: userHeader{}, Browser: e.flow})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	b := newBrowser()
	b.cookies["theme"], b.order = "dark", []string{"theme"}
	asReply := func(res decision.Result) *decision.Reply {
		return &res.Reply // the login's reply, carried in the Result as is
	}

	steps := []struct {
		name   string
		path   string // "" : the IdP's redirect back to the callback
		check  func(t *testing.T, res decision.Result)
		follow bool // the browser keeps the reply's cookies
	}{
		{"no session: the login starts", "/notebooks/x", func(t *testing.T, res decision.Result) {
			if res.Allowed || res.Status != http.StatusFound || res.Reason != ReasonLoginRedirect {
				t.Fatalf("Result = %+v", res)
			}
			assertAuthorizeURL(t, e, header(asReply(res), "location"))
		}, true},
		{"callback: the session is set", "", func(t *testing.T, res decision.Result) {
			if res.Allowed || res.Status != http.StatusFound || res.Reason != ReasonLoginOK ||
				header(asReply(res), "location") != "/notebooks/x" {
				t.Fatalf("Result = %+v", res)
			}
			assertLoginCookies(t, setCookies(asReply(res)))
		}, true},
		{"with the session: allowed", "/notebooks/x", func(t *testing.T, res decision.Result) {
			if !res.Allowed || res.Identity == nil || res.Identity.Source != identity.SourceSession {
				t.Fatalf("Result = %+v", res)
			}
			if !slices.Contains(res.Set, identity.Header{Name: "kubeflow-userid", Value: "dev@example.com"}) ||
				!slices.Contains(res.Set, identity.Header{Name: "cookie", Value: "theme=dark"}) {
				t.Fatalf("upstream headers = %v, want the user and the cookie without idgate's", res.Set)
			}
		}, false},
	}
	var last decision.Result
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			path := st.path
			if path == "" {
				path = MustAuthorize(t, asReply(last))
			}
			req := b.get(path)
			req.ID = "r-" + strings.ReplaceAll(st.name, " ", "-")
			res, err := eng.Decide(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			st.check(t, res)
			if st.follow {
				b.apply(t, res.ResponseHeaders)
			}
			last = res
		})
	}
}
