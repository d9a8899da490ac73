package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestDecisionLogOverBothFronts runs idgate for real, asks it about a
// request that a route refuses over gRPC (no id sent, as the test front
// does) and over HTTP forward-auth, and reads the decision lines: they say
// who, what and why, carry an id, and hold no token, cookie or query.
func TestDecisionLogOverBothFronts(t *testing.T) {
	idp := mustIdP(t)
	in := mustStart(t, plainConfig(idp.Issuer(), "kubeflow")+"routes: [{path_prefix: /pipeline, allow_groups: [admins]}]\n")
	in.waitReady(t)
	tok := mustMint(t, idp, map[string]any{"sub": "alice", "aud": "kubeflow", "email": "alice@example.com",
		"email_verified": true, "groups": []string{"ml"}}, "RS256")
	const cookieValue, querySecret = "c00kie-value-secret", "qu3ry-secret"

	resp := check(t, in, checkRequest("/pipeline/apis/v2beta1/runs?code="+querySecret+"#frag",
		map[string]string{"authorization": "Bearer " + tok, "cookie": "session=" + cookieValue}))
	if code := resp.GetDeniedResponse().GetStatus().GetCode(); code != 403 {
		t.Fatalf("gRPC status %v, want 403", code)
	}
	req, _ := http.NewRequest("GET", "http://"+in.httpAddr+"/authz", nil)
	req.Header.Set("X-Forwarded-Method", "DELETE")
	req.Header.Set("X-Forwarded-Host", "kubeflow.example.com")
	req.Header.Set("X-Forwarded-Uri", "/pipeline/apis/v2beta1/runs/7?sig="+querySecret)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Cookie", "session="+cookieValue)
	hr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hr.Body.Close()
	if hr.StatusCode != 403 {
		t.Fatalf("forward-auth status %d, want 403", hr.StatusCode)
	}

	var lines []map[string]any
	in.eventually(t, "decision lines written", func() bool {
		lines = decisionLines(in.logs.String())
		return len(lines) >= 2
	})
	wants := []map[string]any{
		{"method": "GET", "host": "runs.example.com", "path": "/pipeline/apis/v2beta1/runs"},
		{"method": "DELETE", "host": "kubeflow.example.com", "path": "/pipeline/apis/v2beta1/runs/7"},
	}
	for i, want := range wants {
		for k, v := range map[string]any{"route": "/pipeline", "result": "deny", "status": 403.0, "reason": "forbidden",
			"issuer": idp.Issuer(), "subject": "alice", "user_id": "alice@example.com"} {
			want[k] = v
		}
		for k, v := range want {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, lines[i][k], v)
			}
		}
		if id, _ := lines[i]["decision_id"].(string); id == "" {
			t.Errorf("line %d: empty decision_id", i)
		}
	}
	logs := in.logs.String()
	for _, secret := range []string{tok, tok[strings.LastIndex(tok, ".")+1:], cookieValue, querySecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// decisionLines parses the JSON decision lines of logs.
func decisionLines(logs string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "decision" {
			out = append(out, line)
		}
	}
	return out
}
