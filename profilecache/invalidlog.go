package profilecache

import (
	"log/slog"
	"sync"
	"time"
)

// invalidLogEvery is the least time between two log lines about Redis
// values that do not open; the metric counts every one.
const invalidLogEvery = time.Minute

// invalidLog rate-limits the warning about Redis values that do not open:
// one line, then at most one per invalidLogEvery saying how many more there
// were. The Redis key is logged (it is a hash, not a secret); the value is
// not.
type invalidLog struct {
	mu         sync.Mutex
	last       time.Time // zero: never logged
	suppressed int
}

func (l *invalidLog) report(log *slog.Logger, now time.Time, redisKey string) {
	l.mu.Lock()
	if !l.last.IsZero() && now.Sub(l.last) < invalidLogEvery {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	log.Warn("profilecache: a Redis value does not open with the cache keys; treated as a miss (forged, altered, moved, or sealed with a retired key)",
		"key", redisKey, "suppressed_since_last", suppressed)
}
