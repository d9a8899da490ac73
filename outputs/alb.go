package outputs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/idgate/idgate/identity"
)

// ALB header names, as an AWS Application Load Balancer's authenticate-oidc
// action sends them.
const (
	ALBData        = "x-amzn-oidc-data"
	ALBIdentity    = "x-amzn-oidc-identity"
	ALBAccessToken = "x-amzn-oidc-accesstoken"
)

// ALBConfig configures the ALB-compatible headers.
type ALBConfig struct {
	// Enabled writes x-amzn-oidc-data, -identity and -accesstoken.
	Enabled bool
	// Padding keeps '=' padding in the JWT's base64 segments, as ALB does;
	// some consumers were written against that.
	Padding bool
	// Client is the `client` header field (the OIDC client id ALB reports).
	Client string
	// Signer is the `signer` header field; ALB puts its ARN there.
	Signer string
}

// albHeader is the protected header of x-amzn-oidc-data beyond alg, kid
// and typ: ALB puts its metadata there, not in the claims.
func (r *Renderer) albHeader(c *flyteClaims, exp time.Time) map[string]any {
	return map[string]any{"iss": c.IdP, "client": r.cfg.ALB.Client, "signer": r.cfg.ALB.Signer, "exp": exp.Unix()}
}

// albClaims are the userinfo claims ALB forwards, plus exp and iss.
type albClaims struct {
	Subject           string            `json:"sub"`
	Email             string            `json:"email,omitempty"`
	EmailVerified     identity.Verified `json:"email_verified,omitempty"`
	Name              string            `json:"name,omitempty"`
	GivenName         string            `json:"given_name,omitempty"`
	FamilyName        string            `json:"family_name,omitempty"`
	PreferredUsername string            `json:"preferred_username,omitempty"`
	Groups            []string          `json:"groups,omitempty"`
	Expiry            int64             `json:"exp"`
	Issuer            string            `json:"iss"`
}

func (r *Renderer) albData(c *flyteClaims, exp time.Time) (string, error) {
	p, err := json.Marshal(albClaims{Subject: c.Subject, Email: c.Email, EmailVerified: c.EmailVerified, Name: c.Name,
		GivenName: c.GivenName, FamilyName: c.FamilyName, PreferredUsername: c.PreferredUsername,
		Groups: c.Groups, Expiry: exp.Unix(), Issuer: c.IdP})
	if err != nil {
		return "", fmt.Errorf("outputs: alb claims: %w", err)
	}
	tok, err := r.signer.SignJWT(r.albHeader(c, exp), p, r.cfg.ALB.Padding)
	if err != nil {
		return "", fmt.Errorf("outputs: sign alb data: %w", err)
	}
	return tok, nil
}
