package profilecache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// leasePrefix follows KeyPrefix in a lease's Redis key. Leases are single
// keys (SET NX PX, and a one-key script to release), so they need no hash
// tag to share a Cluster slot with anything.
const leasePrefix = "lease:"

// releaseScript deletes a lease only while it still holds the holder's
// token: a holder whose lease expired and was taken by another replica
// does not remove the new holder's lease.
var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Lease takes the short lease named key (`SET NX PX ttl` with a random
// token) so that, across the replicas sharing Redis, one does a piece of
// work (a userinfo lookup) while the others wait for its result in the
// cache. won reports whether this call took it; when it did, release gives
// it back (compare-and-delete, bounded like a Set), and a holder that never
// releases blocks no one past ttl. The lease's value is a random token and
// its key is KeyPrefix+"lease:"+key: nothing secret is stored. Without
// Redis there is no one to share with: the error is errors.ErrUnsupported.
// A Redis failure is returned as an error (the caller goes on alone).
func (c *Cache) Lease(ctx context.Context, key string, ttl time.Duration) (release func(context.Context) error, won bool, err error) {
	if c.rdb == nil {
		return nil, false, fmt.Errorf("profilecache: lease: no redis: %w", errors.ErrUnsupported)
	}
	if ttl <= 0 {
		return nil, false, errors.New("profilecache: lease: ttl must be positive")
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	token := hex.EncodeToString(b[:])
	redisKey := c.cfg.Redis.KeyPrefix + leasePrefix + key
	setCtx, cancel := context.WithTimeout(ctx, c.setTimeout)
	defer cancel()
	won, err = c.rdb.SetNX(setCtx, redisKey, token, max(ttl, time.Millisecond)).Result()
	c.record(ctx, err)
	if err != nil {
		return nil, false, fmt.Errorf("profilecache: lease: %w", err)
	}
	if !won {
		return nil, false, nil
	}
	return func(ctx context.Context) error {
		relCtx, cancel := context.WithTimeout(ctx, c.setTimeout)
		defer cancel()
		err := releaseScript.Run(relCtx, c.rdb, []string{redisKey}, token).Err()
		c.record(ctx, err) // the caller's ctx: the bound running out is Redis's fault
		if err != nil {
			return fmt.Errorf("profilecache: lease release: %w", err)
		}
		return nil
	}, true, nil
}
