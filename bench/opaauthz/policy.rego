# The canonical OPA-Envoy JWT policy (the OPA Envoy tutorial's shape): the
# bearer token of the Authorization header is verified against a JWKS with
# io.jwt.decode_verify, which also checks iss, aud, exp and nbf. The JWKS
# (a JSON string), issuer and audience come from data.opaauthz, loaded by
# opaauthz from its flags.
package envoy.authz

import input.attributes.request.http as http_request

default allow := false

allow if token.valid

token := {"valid": valid, "payload": payload} if {
	[_, encoded] := split(http_request.headers.authorization, " ")
	[valid, _, payload] := io.jwt.decode_verify(encoded, {
		"cert": data.opaauthz.jwks,
		"iss": data.opaauthz.issuer,
		"aud": data.opaauthz.audience,
	})
}
