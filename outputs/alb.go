package outputs

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
