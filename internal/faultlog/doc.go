// Package faultlog logs a recurring fault of background work (a key fetch,
// a Redis connection, a userinfo endpoint) once when it starts, again only
// when its cause changes, and once when it ends, so an outage is a few log
// lines with their cause instead of one per attempt.
package faultlog
