package userinfo

import "sync"

// memoSize bounds the decoded-entry memo.
const memoSize = 10000

// memo keeps the last decoded Entry per cache key next to the bytes it was
// decoded from, so a warm Check (a local cache hit returning the same bytes)
// costs a comparison instead of a JSON decode. Correctness never depends on
// it: an entry is reused only when the cache returned identical bytes.
type memo struct {
	mu sync.RWMutex
	m  map[string]memoEntry
}

type memoEntry struct {
	raw   string
	entry Entry
}

func (m *memo) get(key string, raw []byte) (Entry, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.m[key]
	if !ok || e.raw != string(raw) { // the conversion does not allocate
		return Entry{}, false
	}
	return e.entry, true
}

func (m *memo) put(key string, raw []byte, e Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]memoEntry)
	}
	if _, ok := m.m[key]; !ok && len(m.m) >= memoSize {
		for k := range m.m { // evict an arbitrary entry
			delete(m.m, k)
			break
		}
	}
	m.m[key] = memoEntry{raw: string(raw), entry: e}
}
