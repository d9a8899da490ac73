// Package testkit holds nothing itself: its subpackages are idgate's
// test-only helpers (Redis and Envoy stand-ins, a fixed decider, a clock,
// a log buffer, a wait-for, a metric reader, a raw HTTP client, a live-heap
// measure). The binary
// never imports them; TestShippedCodeDoesNotImportTestkit holds it to that.
package testkit
