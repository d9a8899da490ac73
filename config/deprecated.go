package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// Rename is a key renamed in this release. The old key (in YAML, and its
// IDGATE_* variable) still loads, into the new key, with a deprecation
// warning; setting both to different values is an error.
type Rename struct {
	// Old is the key as it was, "jwks_max_stale".
	Old string
	// New is where it lives now, "tokens.max_stale".
	New string
}

// Renames lists every renamed key, one per leaf: the loose token and
// userinfo keys went into their sections, and cache.redis became the
// top-level redis, shared by the profile cache and the login sessions.
var Renames = sync.OnceValue(func() []Rename {
	rs := []Rename{
		{"jwks_refresh_min_interval", "tokens.refresh_min_interval"},
		{"jwks_max_stale", "tokens.max_stale"},
		{"jwks_key_wait", "tokens.key_wait"},
		{"clock_skew", "tokens.clock_skew"},
		{"token_cache_size", "tokens.cache_size"},
		{"userinfo_timeout", "userinfo.timeout"},
	}
	redis := map[string]envKey{}
	collectEnvKeys(reflect.TypeFor[Redis](), "redis.", redis)
	var leaves []string
	for _, k := range redis {
		leaves = append(leaves, k.key)
	}
	slices.Sort(leaves)
	for _, k := range leaves {
		rs = append(rs, Rename{Old: "cache." + k, New: k})
	}
	return rs
})

// envName is the IDGATE_* variable of key.
func envName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Deprecations returns the warnings of [Load] about renamed keys it was
// given, one per key, each naming the new key; the caller logs them.
func (c *Config) Deprecations() []string { return clone(c.deprecations) }

// deprecationf formats one deprecation warning.
func deprecationf(old, new string) string {
	return fmt.Sprintf("config: %s is deprecated; use %s", old, new)
}

// renameKeys moves each old key found in the YAML settings m (nested maps,
// as viper's AllSettings returns them) to its new key. It returns the
// warnings, and an error for each pair set to different values.
func renameKeys(m map[string]any) (warnings []string, errs []error) {
	for _, r := range Renames() {
		old, ok := takePath(m, r.Old)
		if !ok {
			continue
		}
		warnings = append(warnings, deprecationf(r.Old, r.New))
		if cur, set := getPath(m, r.New); set {
			if !sameValue(cur, old) {
				errs = append(errs, fmt.Errorf("config: %s and %s (its old name) are both set, to different values; keep %s", r.New, r.Old, r.New))
			}
			continue
		}
		setPath(m, r.New, old)
	}
	return warnings, errs
}

// renameEnv rewrites the deprecated IDGATE_* variables of environ to their
// new names, keeping the order. A variable whose new name is also set is
// dropped (the new one wins), or is an error when the two values differ.
func renameEnv(environ []string) (out, warnings []string, errs []error) {
	byOld := map[string]string{}
	for _, r := range Renames() {
		if envName(r.Old) != envName(r.New) { // userinfo_timeout's variable is userinfo.timeout's
			byOld[envName(r.Old)] = envName(r.New)
		}
	}
	set := map[string]string{}
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		set[name] = val
	}
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		newName, deprecated := byOld[name]
		if !deprecated {
			out = append(out, kv)
			continue
		}
		warnings = append(warnings, deprecationf(name, newName))
		if cur, both := set[newName]; both {
			if cur != val && !sameValue(cur, val) {
				errs = append(errs, fmt.Errorf("config: %s and %s (its old name) are both set, to different values; keep %s", newName, name, newName))
			}
			continue
		}
		out = append(out, newName+"="+val)
	}
	return out, warnings, errs
}

// sameValue reports whether two written values are the same setting: equal
// as written, or the same duration ("1m" and "60s").
func sameValue(a, b any) bool {
	if reflect.DeepEqual(a, b) || fmt.Sprint(a) == fmt.Sprint(b) {
		return true
	}
	da, errA := time.ParseDuration(fmt.Sprint(a))
	db, errB := time.ParseDuration(fmt.Sprint(b))
	return errA == nil && errB == nil && da == db
}

// getPath returns the value at the dotted key in the nested map m.
func getPath(m map[string]any, key string) (any, bool) {
	parent, last, ok := walkPath(m, key, false)
	if !ok {
		return nil, false
	}
	v, ok := parent[last]
	return v, ok
}

// takePath removes and returns the value at the dotted key in m, and drops
// a section the removal left empty.
func takePath(m map[string]any, key string) (any, bool) {
	parent, last, ok := walkPath(m, key, false)
	if !ok {
		return nil, false
	}
	v, ok := parent[last]
	if !ok {
		return nil, false
	}
	delete(parent, last)
	if i := strings.LastIndex(key, "."); i > 0 && len(parent) == 0 {
		takePath(m, key[:i])
	}
	return v, true
}

// setPath sets the value at the dotted key in m, creating sections.
func setPath(m map[string]any, key string, v any) {
	if parent, last, ok := walkPath(m, key, true); ok {
		parent[last] = v
	}
}

// walkPath returns the map holding key's last part, creating missing
// sections when create is set; false when a section is missing or is not
// a map.
func walkPath(m map[string]any, key string, create bool) (map[string]any, string, bool) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p]
		if !ok && create {
			next = map[string]any{}
			m[p] = next
		}
		nm, isMap := next.(map[string]any)
		if !isMap {
			return nil, "", false
		}
		m = nm
	}
	return m, parts[len(parts)-1], true
}
