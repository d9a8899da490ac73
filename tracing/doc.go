// Package tracing sets up OpenTelemetry tracing from the standard OTEL_*
// environment variables (off unless asked for) and instruments idgate's
// outbound calls: HTTP requests to issuers and Redis commands.
package tracing
