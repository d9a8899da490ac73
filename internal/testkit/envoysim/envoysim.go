// Package envoysim applies an ext_authz OK response to a request's headers
// the way Envoy's ext_authz filter does, for tests that have no Envoy binary.
package envoysim

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
)

// Header is one header line; a request may hold several with one name, in
// any letter case.
type Header struct{ Name, Value string }

// Order says in which order the mutations are applied. Envoy applies
// headers first and headers_to_remove after; the other order is what a
// differently written proxy might do. idgate's output must be right in both.
type Order int

const (
	// SetThenRemove is Envoy's order.
	SetThenRemove Order = iota
	// RemoveThenSet is the reverse.
	RemoveThenSet
)

// Apply returns the upstream request headers after ok's mutations. Header
// names compare case-insensitively, as in Envoy's header map.
func Apply(req []Header, ok *authv3.OkHttpResponse, order Order) []Header {
	out := append([]Header(nil), req...)
	set := func() {
		for _, hv := range ok.GetHeaders() {
			out = setHeader(out, hv)
		}
	}
	remove := func() {
		for _, n := range ok.GetHeadersToRemove() {
			out = removeAll(out, n)
		}
	}
	if order == SetThenRemove {
		set()
		remove()
	} else {
		remove()
		set()
	}
	return out
}

func setHeader(hs []Header, hv *corev3.HeaderValueOption) []Header {
	name, value := hv.GetHeader().GetKey(), hv.GetHeader().GetValue()
	switch hv.GetAppendAction() {
	case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
		hs = removeAll(hs, name)
	case corev3.HeaderValueOption_ADD_IF_ABSENT:
		if len(Values(hs, name)) > 0 {
			return hs
		}
	case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
		if len(Values(hs, name)) == 0 {
			return hs
		}
		hs = removeAll(hs, name)
	}
	return append(hs, Header{Name: strings.ToLower(name), Value: value})
}

func removeAll(hs []Header, name string) []Header {
	out := hs[:0:0]
	for _, h := range hs {
		if !strings.EqualFold(h.Name, name) {
			out = append(out, h)
		}
	}
	return out
}

// Values returns every value of name, case-insensitively.
func Values(hs []Header, name string) []string {
	var vs []string
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			vs = append(vs, h.Value)
		}
	}
	return vs
}

// CheckHeaders is the header map Envoy would send in a CheckRequest for
// these request headers: lower-case names, copies joined by ",".
func CheckHeaders(hs []Header) map[string]string {
	m := make(map[string]string, len(hs))
	for _, h := range hs {
		n := strings.ToLower(h.Name)
		if prev, ok := m[n]; ok {
			m[n] = prev + "," + h.Value
			continue
		}
		m[n] = h.Value
	}
	return m
}
