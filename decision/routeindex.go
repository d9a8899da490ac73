package decision

import "strings"

// routeIndex finds the first matching route without scanning the whole
// table: routes are filed by host (or "any host") and by the first segment
// of their prefix, lower-cased (or "any segment" for "/", "" and prefixes
// the key cannot describe). A lookup merges at most four short lists of
// route positions in table order and asks Route.matches of each candidate,
// so the answer is exactly the linear scan's: the index only skips routes
// that cannot match.
//
// Why the first segment is a safe key: a route matches whole segments, so
// a path it matches has the prefix's first segment as its own. For an
// ASCII segment, letter case is the only difference matches allows
// (strings.EqualFold over the same number of bytes needs ASCII on both
// sides), so an ASCII-lower-cased key finds every candidate. A prefix
// whose first segment is not ASCII is filed under "any segment".
type routeIndex struct {
	routes []Route
	// linear: the table is small enough that a scan beats the lookups.
	linear bool
	// byHost holds the routes restricted to a host; anyHost the others.
	byHost  map[string]*segIndex
	anyHost segIndex
}

// segIndex files route positions by prefix first segment, once for each
// reading of a path: encoded (the prefix as a raw path spells it) and
// decoded.
type segIndex struct {
	encoded, decoded segTable
}

// segTable maps a lower-cased first segment to ascending route positions;
// any holds the routes that may match whatever the first segment.
type segTable struct {
	bySeg map[string][]int32
	any   []int32
}

func (t *segTable) add(key string, keyed bool, i int32) {
	if !keyed {
		t.any = append(t.any, i)
		return
	}
	if t.bySeg == nil {
		t.bySeg = map[string][]int32{}
	}
	t.bySeg[key] = append(t.bySeg[key], i)
}

// newRouteIndex files routes (prepared) by host and first segment.
func newRouteIndex(routes []Route) *routeIndex {
	x := &routeIndex{routes: routes, byHost: map[string]*segIndex{}, linear: len(routes) <= linearRoutes}
	for i := range routes {
		r := &routes[i]
		encKey, encKeyed := prefixKey(r.encodedPrefixOrPlain())
		decKey, decKeyed := prefixKey(r.PathPrefix)
		targets := []*segIndex{&x.anyHost}
		if len(r.Hosts) > 0 {
			targets = targets[:0]
			for _, h := range r.Hosts {
				s := x.byHost[h]
				if s == nil {
					s = &segIndex{}
					x.byHost[h] = s
				}
				if !containsSeg(targets, s) { // a host listed twice
					targets = append(targets, s)
				}
			}
		}
		for _, s := range targets {
			s.encoded.add(encKey, encKeyed, int32(i))
			s.decoded.add(decKey, decKeyed, int32(i))
		}
	}
	return x
}

func containsSeg(list []*segIndex, s *segIndex) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// encodedPrefixOrPlain is the prefix Route.matches compares an encoded
// reading with.
func (r *Route) encodedPrefixOrPlain() string {
	if r.encodedPrefix != "" {
		return r.encodedPrefix
	}
	return r.PathPrefix
}

// prefixKey is the index key of a route prefix: its first segment in ASCII
// lower case. keyed is false when the route may match paths with any first
// segment ("/", "", a prefix not starting with "/", an empty first
// segment), when the segment is not ASCII (Unicode case folding) or longer
// than maxKeyLen.
func prefixKey(prefix string) (key string, keyed bool) {
	if len(prefix) < 2 || prefix[0] != '/' {
		return "", false
	}
	seg := prefix[1:]
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg = seg[:i]
	}
	if seg == "" || len(seg) > maxKeyLen {
		return "", false
	}
	for i := 0; i < len(seg); i++ {
		if seg[i] >= 0x80 {
			return "", false
		}
	}
	return strings.ToLower(seg), true
}

// linearRoutes is the table size up to which a scan is cheaper than the
// index's lookups (about 50ns).
const linearRoutes = 4

// first returns the first route, in table order, that matches one reading
// of the path (nil: none); host is normalised.
func (x *routeIndex) first(method, host string, f pathForm) *Route {
	if x.linear {
		for i := range x.routes {
			if x.routes[i].matches(method, host, f) {
				return &x.routes[i]
			}
		}
		return nil
	}
	return x.indexed(method, host, f)
}

// indexed is first through the index, whatever the table's size.
func (x *routeIndex) indexed(method, host string, f pathForm) *Route {
	var lists [4][]int32
	n := 0
	seg, ok := pathKey(f.path)
	var buf [maxKeyLen]byte
	var lower []byte // seg lower-cased, when it has upper-case letters
	if ok && hasUpper(seg) {
		lower = buf[:0]
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower = append(lower, c)
		}
	}
	for _, s := range [2]*segIndex{x.byHost[host], &x.anyHost} {
		if s == nil {
			continue
		}
		t := &s.decoded
		if f.encoded {
			t = &s.encoded
		}
		if ok && t.bySeg != nil {
			var l []int32
			if lower != nil {
				l = t.bySeg[string(lower)] // no allocation: a map index
			} else {
				l = t.bySeg[seg]
			}
			if len(l) > 0 {
				lists[n] = l
				n++
			}
		}
		if len(t.any) > 0 {
			lists[n] = t.any
			n++
		}
	}
	return x.scan(lists[:n], method, host, f)
}

// scan visits the positions of lists in ascending order (each list is
// ascending) and returns the first route that matches.
func (x *routeIndex) scan(lists [][]int32, method, host string, f pathForm) *Route {
	for {
		best, at := int32(-1), -1
		for j, l := range lists {
			if len(l) > 0 && (best < 0 || l[0] < best) {
				best, at = l[0], j
			}
		}
		if at < 0 {
			return nil
		}
		lists[at] = lists[at][1:]
		if r := &x.routes[best]; r.matches(method, host, f) {
			return r
		}
	}
}

// maxKeyLen bounds the first segments the index files: a longer prefix
// segment is filed under "any" and a longer path segment looked up there
// only, so the lookup needs no heap buffer.
const maxKeyLen = 64

// pathKey is the first segment of a path (the bytes after the leading "/"
// up to the next one). ok is false when the path has none or it is longer
// than maxKeyLen: no keyed route can match it then.
func pathKey(p string) (seg string, ok bool) {
	if len(p) < 2 || p[0] != '/' {
		return "", false
	}
	seg = p[1:]
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg = seg[:i]
	}
	return seg, seg != "" && len(seg) <= maxKeyLen
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}
