package main

import (
	"net/url"
	"strconv"
	"strings"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// v3Version is input.version as opa-envoy-plugin sets it for ext_authz v3.
var v3Version = ast.NewObject(
	[2]*ast.Term{ast.StringTerm("ext_authz"), ast.StringTerm("v3")},
	[2]*ast.Term{ast.StringTerm("encoding"), ast.StringTerm("protojson")},
)

// checkInput builds OPA's input from a CheckRequest the way
// opa-envoy-plugin's envoyauth.RequestToInput does for v3: the request
// as a map keyed by the fields' JSON names, version, parsed_path,
// parsed_query, and (body parsing on, the plugin's default) parsed_body
// and truncated_body. An unparsable path or body is an error, which the
// caller turns into a deny, as the plugin does.
func checkInput(req *authv3.CheckRequest) (map[string]any, error) {
	input := protoMap(req.ProtoReflect())
	http := req.GetAttributes().GetRequest().GetHttp()
	input["version"] = v3Version
	parsedPath, parsedQuery, err := parsePathAndQuery(http.GetPath())
	if err != nil {
		return nil, err
	}
	input["parsed_path"] = parsedPath
	input["parsed_query"] = parsedQuery
	body, truncated, err := parseBody(http.GetHeaders(), http.GetBody(), http.GetRawBody())
	if err != nil {
		return nil, err
	}
	input["parsed_body"] = body
	input["truncated_body"] = truncated
	if p := req.GetAttributes().GetSource().GetPrincipal(); p != "" {
		input["source_principal"] = p
	}
	return input, nil
}

// protoMap is a message as nested Go maps keyed by the fields' JSON names,
// set fields only; a google.protobuf.Struct is its AsMap.
func protoMap(m protoreflect.Message) map[string]any {
	if s, ok := m.Interface().(interface{ AsMap() map[string]any }); ok {
		return s.AsMap()
	}
	out := make(map[string]any, m.Descriptor().Fields().Len())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			mv := v.Map()
			mm := make(map[string]any, mv.Len())
			msg := fd.MapValue().Kind() == protoreflect.MessageKind
			mv.Range(func(k protoreflect.MapKey, e protoreflect.Value) bool {
				mm[k.String()] = protoValue(e, msg)
				return true
			})
			out[fd.JSONName()] = mm
		case fd.IsList():
			l := v.List()
			ls := make([]any, l.Len())
			msg := fd.Kind() == protoreflect.MessageKind
			for i := range ls {
				ls[i] = protoValue(l.Get(i), msg)
			}
			out[fd.JSONName()] = ls
		default:
			out[fd.JSONName()] = protoValue(v, fd.Kind() == protoreflect.MessageKind)
		}
		return true
	})
	return out
}

func protoValue(v protoreflect.Value, msg bool) any {
	if msg {
		return protoMap(v.Message())
	}
	return v.Interface()
}

// parsePathAndQuery splits the request path into its unescaped segments
// and its query parameters, as the plugin's parsed_path and parsed_query.
func parsePathAndQuery(path string) ([]string, map[string]any, error) {
	rawPath, rawQuery, _ := strings.Cut(path, "?")
	p, err := url.PathUnescape(rawPath)
	if err != nil {
		return nil, nil, err
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, nil, err
	}
	query := make(map[string]any, len(q))
	for k, v := range q {
		query[k] = v
	}
	return strings.Split(strings.TrimLeft(p, "/"), "/"), query, nil
}

// parseBody is parsed_body for JSON and form bodies, as the plugin parses
// them; other content types (gRPC, multipart), which the load never sends,
// are left unparsed here.
func parseBody(headers map[string]string, body string, raw []byte) (any, bool, error) {
	if headers["x-envoy-auth-partial-body"] == "true" {
		return nil, true, nil
	}
	ct := headers["content-type"]
	if body == "" {
		body = string(raw)
	}
	if body == "" {
		return nil, false, nil
	}
	if cl, ok := headers["content-length"]; ok && (strings.Contains(ct, "application/json") ||
		strings.Contains(ct, "application/x-www-form-urlencoded")) {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil {
			return nil, false, err
		}
		if n > int64(len(body)) {
			return nil, true, nil
		}
	}
	switch {
	case strings.Contains(ct, "application/json"):
		var v any
		if err := util.UnmarshalJSON([]byte(body), &v); err != nil {
			return nil, false, err
		}
		return v, false, nil
	case strings.Contains(ct, "application/x-www-form-urlencoded"):
		v, err := url.ParseQuery(body)
		return map[string][]string(v), false, err
	}
	return nil, false, nil
}
