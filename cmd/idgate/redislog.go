package main

import (
	"context"
	"fmt"
	"log/slog"
)

// redisLogger sends go-redis's own messages (dial failures, pool events) to
// the process logger at debug level instead of stderr: during a Redis outage
// they would otherwise print once per request, and the profile cache
// already counts the failures in idgate_profilecache_* metrics.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
