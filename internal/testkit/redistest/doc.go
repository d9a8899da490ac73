// Package redistest runs real redis-server processes on loopback ports for
// tests: a standalone server that can be stopped, killed and restarted on the
// same port, a small Redis Cluster and a Sentinel-monitored master.
package redistest
