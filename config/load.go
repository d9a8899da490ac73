package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// EnvPrefix starts every environment override. Each key is also read from
// EnvPrefix + its path in upper snake case (server.grpc_addr is
// IDGATE_SERVER_GRPC_ADDR); lists of scalars are comma-separated, lists of
// objects (issuers, routes) are JSON. Other IDGATE_* variables are ignored.
const EnvPrefix = "IDGATE_"

// Load reads the YAML file at path, which must exist ("" reads no file and
// starts from [Default]), applies the IDGATE_* overrides found in environ
// (in os.Environ form, later entries winning) and validates the result.
// Relative file names inside the configuration are relative to the working
// directory, not to path.
func Load(path string, environ []string) (*Config, error) {
	if path == "" {
		return Parse(strings.NewReader(""), environ)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return Parse(f, environ)
}

// Parse is [Load] for YAML read from r. Keys absent from r keep their
// [Default] value; unknown keys are errors. It returns every problem found,
// joined, each naming its key; no secret value is ever part of an error.
func Parse(r io.Reader, environ []string) (*Config, error) {
	file := viper.New()
	file.SetConfigType("yaml")
	if err := file.ReadConfig(r); err != nil {
		// One line, like every other error: yaml lists problems on several.
		return nil, fmt.Errorf("config: parse yaml: %s", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	// Renamed keys move to their new place before anything is decoded, so
	// an old key means exactly what its new key does.
	settings := file.AllSettings()
	deprecations, errs := renameKeys(settings)
	v := viper.New()
	if err := v.MergeConfigMap(settings); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	environ, envDeprecations, envErrs := renameEnv(environ)
	deprecations = append(deprecations, envDeprecations...)
	errs = append(errs, envErrs...)
	errs = append(errs, applyEnv(v, environ)...)
	c := Default()
	c.deprecations = deprecations
	if err := v.UnmarshalExact(c, viper.DecodeHook(durationHook)); err != nil {
		errs = append(errs, decodeErrors(err)...)
	}
	// Validate even after decoding errors, so one run reports every problem;
	// a key that failed to decode keeps its default.
	c.normalize()
	if err := c.readLoginSecrets(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := c.readSecrets(); err != nil {
		return nil, err
	}
	c.Routes = ExpandRoutes(c.Routes)
	return c, nil
}

// envKind says how an environment value is decoded.
type envKind int

const (
	envScalar envKind = iota // the value as is, converted by the decoder
	envList                  // comma-separated list of scalars
	envJSON                  // JSON list of objects
)

type envKey struct {
	key  string
	kind envKind
}

// envKeys maps each IDGATE_* variable name to the key it overrides, derived
// from the mapstructure tags of [Config].
var envKeys = sync.OnceValue(func() map[string]envKey {
	m := make(map[string]envKey)
	collectEnvKeys(reflect.TypeFor[Config](), "", m)
	return m
})

func collectEnvKeys(t reflect.Type, prefix string, m map[string]envKey) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		key := prefix + f.Tag.Get("mapstructure")
		kind := envScalar
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct:
			collectEnvKeys(ft, key+".", m)
			continue
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			kind = envJSON
		case ft.Kind() == reflect.Slice:
			kind = envList
		}
		m[envName(key)] = envKey{key: key, kind: kind}
	}
}

// applyEnv sets the overrides found in environ on v.
func applyEnv(v *viper.Viper, environ []string) []error {
	keys := envKeys()
	var errs []error
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		k, ok := keys[name]
		if !ok {
			continue
		}
		switch k.kind {
		case envScalar:
			v.Set(k.key, val)
		case envList:
			v.Set(k.key, splitList(val))
		case envJSON:
			list := []any{}
			if strings.TrimSpace(val) == "" {
				v.Set(k.key, list) // like an empty scalar list: clears the key
				continue
			}
			if err := json.Unmarshal([]byte(val), &list); err != nil {
				errs = append(errs, fmt.Errorf("config: %s: %s: want a JSON list of objects: %w", k.key, name, err))
				continue
			}
			v.Set(k.key, list)
		}
	}
	return errs
}

// splitList splits a comma-separated list, trimming blanks and dropping
// empty items; "" is the empty list.
func splitList(s string) []any {
	list := []any{}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list
}

var durationType = reflect.TypeFor[time.Duration]()

// durationHook decodes durations from Go syntax ("5s", "150ms"). A bare
// number other than 0 is refused: "10" would silently mean 10ns.
func durationHook(_ reflect.Type, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch d := data.(type) {
	case time.Duration:
		return d, nil
	case string:
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			return nil, fmt.Errorf("invalid duration %q (want Go syntax like \"5s\" or \"150ms\")", d)
		}
		return dur, nil
	}
	rv := reflect.ValueOf(data)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if rv.IsZero() {
			return time.Duration(0), nil
		}
	}
	return nil, errors.New("invalid duration: want a string with a unit like \"5s\" or \"150ms\"")
}

// unknownKeysPrefix starts mapstructure's ErrorUnused message.
const unknownKeysPrefix = "has invalid keys: "

// decodeErrors turns mapstructure's error tree (a wrapped errors.Join of
// *mapstructure.DecodeError) into one error per key.
func decodeErrors(err error) []error {
	var out []error
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *mapstructure.DecodeError:
			out = append(out, keyError(e.Name(), e.Unwrap())...)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		default:
			out = append(out, fmt.Errorf("config: %w", err))
		}
	}
	walk(err)
	return out
}

// keyError names the key of one decoding problem. Values of secret keys
// are never echoed.
func keyError(name string, err error) []error {
	if rest, ok := strings.CutPrefix(err.Error(), unknownKeysPrefix); ok {
		var out []error
		for k := range strings.SplitSeq(rest, ", ") {
			out = append(out, fmt.Errorf("config: %s: unknown key", joinKey(name, k)))
		}
		return out
	}
	if name == "" {
		name = "(top level)"
	}
	if isSecretKey(name) {
		return []error{fmt.Errorf("config: %s: invalid value", name)}
	}
	return []error{fmt.Errorf("config: %s: %w", name, err)}
}

func joinKey(parent, k string) string {
	if parent == "" {
		return k
	}
	return parent + "." + k
}

// isSecretKey reports whether the value at key must never be printed.
func isSecretKey(key string) bool {
	last := key[strings.LastIndex(key, ".")+1:]
	return last == "password" || last == "client_secret" || strings.HasSuffix(last, "session_key")
}

// normalize applies per-item defaults and canonical case before validation.
func (c *Config) normalize() {
	c.Log.Level = strings.ToLower(c.Log.Level)
	c.Log.Format = strings.ToLower(c.Log.Format)
	c.Log.Decisions = strings.ToLower(c.Log.Decisions)
	c.Login.Cookie.SameSite = strings.ToLower(c.Login.Cookie.SameSite)
	for i := range c.Issuers {
		iss := &c.Issuers[i]
		if iss.UserClaim == "" {
			iss.UserClaim = "email"
		}
		if iss.GroupsClaim == "" {
			iss.GroupsClaim = "groups"
		}
		mapAll(iss.AllowedHosts, strings.ToLower)
		if iss.EmailVerified == "" {
			iss.EmailVerified = EmailVerifiedIfPresent
		}
		mapAll(iss.EmailDomains, strings.ToLower)
	}
	o := &c.Outputs
	o.Kubeflow.UserIDHeader = strings.ToLower(o.Kubeflow.UserIDHeader)
	o.Kubeflow.GroupsHeader = strings.ToLower(o.Kubeflow.GroupsHeader)
	o.Flyte.Header = strings.ToLower(o.Flyte.Header)
	mapAll(o.StripHeaders, strings.ToLower)
	for i := range o.Headers {
		o.Headers[i].Name = strings.ToLower(o.Headers[i].Name)
	}
	c.lowerForwarders()
	for i := range c.Routes {
		r := &c.Routes[i]
		mapAll(r.Methods, strings.ToUpper)
		mapAll(r.Hosts, strings.ToLower)
		mapAll(r.AllowEmailDomains, strings.ToLower)
	}
}

func mapAll(s []string, f func(string) string) {
	for i := range s {
		s[i] = f(s[i])
	}
}

// readSecrets moves the contents of secret files into the configuration.
func (c *Config) readSecrets() error {
	r := &c.Redis
	if r.PasswordFile == "" {
		return nil
	}
	pw, err := readPasswordFile(r.PasswordFile)
	if err != nil {
		return fmt.Errorf("config: redis.password_file: %w", err)
	}
	r.Password, r.PasswordFile = pw, ""
	return nil
}
