package reliability

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// TestOneRedisForProfilesAndSessions: the top-level redis section is the
// one Redis of both the profile cache and the login sessions: a browser's
// session and an API caller's userinfo profile land in it, every key under
// its one key_prefix.
func TestOneRedisForProfilesAndSessions(t *testing.T) {
	rds := mustRedis(t)
	idp := mustIdP(t, devidp.Options{})
	idp.SetDefaultUser(map[string]any{"sub": "web-1", "email": "web@example.com", "groups": []string{"ml"}})
	idp.SetUserinfo("api-1", map[string]any{"email": "api@example.com", "name": "API", "groups": []string{"ml"}})
	p := mustRun(t, loginYAML(idp, fmt.Sprintf(`redis: {addrs: [%q], key_prefix: "shared:"}
`, rds.addr())))
	p.mustReady(10 * time.Second)
	b := newBrowser(t, p)
	b.login()
	tok := mustMint(t, idp, map[string]any{"sub": "api-1", "exp": time.Now().Add(time.Hour).Unix()}, devidp.MintOptions{Alg: "RS256"})
	p.mustCheck(checkReq("/runs", map[string]string{"authorization": "Bearer " + tok}))

	var keys []string
	found := func(prefix string) bool {
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				return true
			}
		}
		return false
	}
	if !wait.Poll(10*time.Second, func() bool { // the profile is stored after the Check
		var err error
		keys, err = redistest.Do(rds.addr(), "KEYS", "*")
		return err == nil && found("shared:session:") && found("shared:userinfo:")
	}) {
		t.Fatalf("keys = %q, want a session and a profile under shared:", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "shared:") {
			t.Errorf("key %q is not under redis.key_prefix", k)
		}
	}
}
