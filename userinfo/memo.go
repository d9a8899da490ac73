package userinfo

import (
	"sync"
	"unsafe"

	"github.com/idgate/idgate/internal/cache"
)

// memoSize bounds the decoded-entry memo (entries); memoBytes bounds it in
// bytes (an average budget of 2 KiB per entry; a typical one is well
// under 1 KiB).
const (
	memoSize  = 10000
	memoBytes = memoSize * 2 << 10
)

// memo keeps the last decoded Entry per cache key next to the bytes it was
// decoded from, so a warm Check (a local cache hit returning the same bytes)
// costs a comparison instead of a JSON decode. Correctness never depends on
// it: an entry is reused only when the cache returned identical bytes. The
// zero memo is ready to use.
type memo struct {
	once sync.Once
	c    *cache.Cache[string, *memoEntry]
}

type memoEntry struct {
	raw   string
	entry Entry
}

func (m *memo) cache() *cache.Cache[string, *memoEntry] {
	m.once.Do(func() {
		m.c = cache.New[string, *memoEntry](cache.Config{MaxEntries: memoSize, MaxBytes: memoBytes}, nil)
	})
	return m.c
}

func (m *memo) get(key string, raw []byte) (Entry, bool) {
	e, ok := m.cache().Get(key)
	if !ok || e.raw != string(raw) { // the conversion does not allocate
		return Entry{}, false
	}
	return e.entry, true
}

func (m *memo) put(key string, raw []byte, e Entry) {
	// The decoded profile holds about as many bytes as the raw entry.
	size := int(unsafe.Sizeof(memoEntry{})) + 16 + len(key) + 2*len(raw)
	m.cache().Put(key, &memoEntry{raw: string(raw), entry: e}, size)
}
