// Package jsonlog is slog's JSON handler with a second way in for a hot
// path: a caller appends one line's fields itself, byte for byte what
// [slog.JSONHandler] would write for the same record, and the line goes out
// in one Write without slog's generic attribute walk and JSON encoder.
package jsonlog
