package jwks

import (
	"encoding/base64"
	"testing"
)

// benchToken is a typical access token: standard claims, a few groups and
// IdP extras. The signature is not checked by parse.
var benchToken = func() string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","typ":"JWT"}`))
	p := enc.EncodeToString([]byte(`{"iss":"https://idp.example.com","sub":"00u1a2b3c4d5e6f7g8h9",` +
		`"aud":["flyte","kubeflow"],"exp":1800000600,"iat":1800000000,"nbf":1800000000,` +
		`"email":"alice@example.com","email_verified":true,"name":"Alice A","given_name":"Alice",` +
		`"family_name":"A","preferred_username":"alice","groups":["admins","ml-team","everyone"],` +
		`"azp":"flyte-cli","scp":["openid","profile","email"],"jti":"b1c2d3e4","auth_time":1800000000}`))
	return h + "." + p + "." + enc.EncodeToString(make([]byte, 256))
}()

// BenchmarkParse is the cost of the checks done before any key work:
// segments, base64 and the JSON of header and claims.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(benchToken); err != nil {
			b.Fatal(err)
		}
	}
}
