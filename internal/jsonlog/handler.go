package jsonlog

import (
	"io"
	"log/slog"
	"sync"
	"time"
)

// Handler is a [slog.JSONHandler] (embedded: Enabled, Handle, WithAttrs and
// WithGroup are its own) that also writes lines built with [Line]. Both
// ways write through one lock, so lines never interleave whatever the
// writer. A handler derived with WithAttrs or WithGroup is a plain
// JSONHandler: its lines carry more than a Line knows of.
type Handler struct {
	*slog.JSONHandler
	w *lockedWriter
	// direct is false when the options change what JSONHandler writes
	// (AddSource, ReplaceAttr): then Start refuses and callers use slog.
	direct bool
}

// New returns a Handler writing to w with opts (nil: defaults), as
// slog.NewJSONHandler(w, opts) would.
func New(w io.Writer, opts *slog.HandlerOptions) *Handler {
	lw := &lockedWriter{w: w}
	direct := opts == nil || !opts.AddSource && opts.ReplaceAttr == nil
	return &Handler{JSONHandler: slog.NewJSONHandler(lw, opts), w: lw, direct: direct}
}

// Start begins a line with slog's built-in fields (time, level, msg) and
// returns it from a pool; the caller appends its attributes in order and
// hands it to Write. ok is false when this Handler cannot promise slog's
// bytes (options that rewrite records, a year outside 0–9999): then log
// through slog. Start does not check the level; the caller asks Enabled
// first, as slog.Logger does.
func (h *Handler) Start(t time.Time, level slog.Level, msg string) (l *Line, ok bool) {
	if !h.direct {
		return nil, false
	}
	if y := t.Year(); y < 0 || y >= 10000 {
		return nil, false // slog writes an error attribute here
	}
	l = linePool.Get().(*Line)
	b := append(l.b[:0], '{')
	if !t.IsZero() {
		b = append(b, `"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","level":`...)
	} else {
		b = append(b, `"level":`...)
	}
	b = appendString(b, level.String())
	b = append(b, `,"msg":`...)
	b = appendString(b, msg)
	l.b = b
	return l, true
}

// Write ends l, writes it in one Write and returns l to the pool; l must
// not be used after.
func (h *Handler) Write(l *Line) error {
	l.b = append(l.b, '}', '\n')
	_, err := h.w.Write(l.b)
	l.free()
	return err
}

// lockedWriter serializes Writes: slog's handler locks only among its own
// lines, and Lines are written beside them.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
