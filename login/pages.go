package login

import (
	"html"
	"net/http"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
)

// page is a small HTML answer: every dynamic part is escaped, and callers
// pass only fixed texts, IdP error codes and same-host paths.
func page(status int, reason, title, message, link string, cookies ...identity.Header) *decision.Reply {
	body := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(title) +
		"</title></head><body><h1>" + html.EscapeString(title) + "</h1><p>" + html.EscapeString(message) + "</p>"
	if link != "" {
		body += "<p><a href=\"" + html.EscapeString(link) + "\">Try again</a></p>"
	}
	body += "</body></html>\n"
	h := []identity.Header{{Name: "content-type", Value: "text/html; charset=utf-8"}, noStore}
	return &decision.Reply{Status: status, ResponseHeaders: append(h, cookies...), Message: body, Reason: reason}
}

// movingOn is a 200 page that sends the browser to target itself: a
// same-site navigation, so a SameSite=Strict session cookie is sent.
func movingOn(target, reason string, cookies ...identity.Header) *decision.Reply {
	t := html.EscapeString(target)
	body := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url=" + t +
		"\"><title>Signed in</title></head><body><p>Signed in. <a href=\"" + t + "\">Continue</a></p></body></html>\n"
	h := []identity.Header{{Name: "content-type", Value: "text/html; charset=utf-8"}, noStore}
	return &decision.Reply{Status: http.StatusOK, ResponseHeaders: append(h, cookies...), Message: body, Reason: reason}
}

// idpErrorText explains an RFC 6749 error code, or says nothing specific
// about codes it does not know.
func idpErrorText(code string) string {
	switch code {
	case "access_denied":
		return "The identity provider denied access (access_denied)."
	case "login_required", "interaction_required", "consent_required", "account_selection_required":
		return "The identity provider needs you to sign in interactively (" + code + ")."
	case "temporarily_unavailable", "server_error":
		return "The identity provider is unavailable (" + code + "). Please try again later."
	}
	if validErrorCode(code) {
		return "The identity provider refused the login (" + code + ")."
	}
	return "The identity provider refused the login."
}

// validErrorCode accepts short codes made of letters, digits, '_' and '-'.
func validErrorCode(code string) bool {
	if code == "" || len(code) > 64 {
		return false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
