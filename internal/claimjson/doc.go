// Package claimjson reads the top-level members of an untrusted JSON object
// (a JWT's header or payload, a userinfo response) by their exact names:
// JSON names are case-sensitive, and encoding/json's struct decoding is not.
package claimjson
