package jsonlog

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/idgate/idgate/internal/jsonstr"
)

// Line is one JSON log line being built; see Handler.Start. Each method
// appends one attribute encoded as slog.JSONHandler encodes it.
type Line struct {
	b []byte
}

var linePool = sync.Pool{New: func() any { return &Line{b: make([]byte, 0, 1024)} }}

// maxPooled is the largest buffer returned to the pool, so one huge line
// does not stay in memory (slog's own bound).
const maxPooled = 16 << 10

func (l *Line) free() {
	if cap(l.b) > maxPooled {
		return
	}
	linePool.Put(l)
}

func (l *Line) key(k string) {
	l.b = append(l.b, ',')
	l.b = appendString(l.b, k)
	l.b = append(l.b, ':')
}

// String appends k and v, as slog.String.
func (l *Line) String(k, v string) {
	l.key(k)
	l.b = appendString(l.b, v)
}

// Int appends k and v, as slog.Int64 (and slog.Int).
func (l *Line) Int(k string, v int64) {
	l.key(k)
	l.b = strconv.AppendInt(l.b, v, 10)
}

// Bool appends k and v, as slog.Bool.
func (l *Line) Bool(k string, v bool) {
	l.key(k)
	l.b = strconv.AppendBool(l.b, v)
}

// Float64 appends k and v, as slog.Float64: slog encodes floats with
// encoding/json, whose format this copies (ES6 number formatting). NaN and
// infinities, which JSON cannot carry, become slog's error string.
func (l *Line) Float64(k string, v float64) {
	l.key(k)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		l.b = appendString(l.b, "!ERROR:json: unsupported value: "+strconv.FormatFloat(v, 'g', -1, 64))
		return
	}
	l.b = appendFloat(l.b, v)
}

// Seconds appends k and d in seconds, as slog.Float64(k, d.Seconds()).
// Between a microsecond and a second (a decision's usual time) it writes
// the digits of the nanoseconds straight away: d.Seconds() is then the
// float nearest n/1e9, and no shorter decimal than n/1e9's own (trailing
// zeros cut) reads back as that float, so these are the digits
// encoding/json's shortest formatting finds, without its search.
func (l *Line) Seconds(k string, d time.Duration) {
	if d < time.Microsecond || d >= time.Second {
		l.Float64(k, d.Seconds())
		return
	}
	l.key(k)
	var digits [9]byte
	n := int64(d)
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + n%10)
		n /= 10
	}
	end := len(digits)
	for digits[end-1] == '0' {
		end--
	}
	l.b = append(l.b, '0', '.')
	l.b = append(l.b, digits[:end]...)
}

// Strings appends k and v, as slog.Any with a []string: slog hands it to
// encoding/json (HTML not escaped), which escapes strings slightly
// differently from slog (\b and \f); a nil v is null.
func (l *Line) Strings(k string, v []string) {
	l.key(k)
	if v == nil {
		l.b = append(l.b, "null"...)
		return
	}
	l.b = append(l.b, '[')
	for i, s := range v {
		if i > 0 {
			l.b = append(l.b, ',')
		}
		l.b = appendJSONString(l.b, s)
	}
	l.b = append(l.b, ']')
}

// appendFloat is encoding/json's floatEncoder for 64-bit floats.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString is s quoted as slog quotes strings (its
// appendEscapedJSONString): ", \ and control bytes escaped (\n, \r, \t,
// else \u00XX), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped, HTML
// characters left alone.
func appendString(b []byte, s string) []byte {
	return jsonstr.Append(b, s, jsonstr.Slog)
}

// appendJSONString is s quoted as encoding/json quotes it without HTML
// escaping: as appendString, with \b and \f for those two bytes.
func appendJSONString(b []byte, s string) []byte {
	return jsonstr.Append(b, s, jsonstr.ShortBF)
}
