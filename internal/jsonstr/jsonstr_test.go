package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestMatchesEncodingJSON: Marshal is json.Marshal's string and ShortBF an
// encoder's without HTML escaping; Slog differs from ShortBF only in \b
// and \f. (jsonlog and outputs fuzz the styles against slog and
// json.Marshal.)
func TestMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"q" \ /`, "\x00\x01\b\f\n\r\t\x1f\x7f", "<a&b>", "\u2028\u2029",
		"\xff\xfe", "é ü 日本", "a\xc3"} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := Append(nil, s, Marshal); string(got) != string(want) {
			t.Errorf("Marshal %q: got %s, want %s", s, got, want)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got, want := Append(nil, s, ShortBF), bytes.TrimSuffix(buf.Bytes(), []byte("\n")); string(got) != string(want) {
			t.Errorf("ShortBF %q: got %s, want %s", s, got, want)
		}
		slogWant := bytes.ReplaceAll(bytes.ReplaceAll(buf.Bytes(), []byte(`\b`), []byte(`\u0008`)), []byte(`\f`), []byte(`\u000c`))
		if got := Append(nil, s, Slog); string(got) != string(bytes.TrimSuffix(slogWant, []byte("\n"))) {
			t.Errorf("Slog %q: got %s, want %s", s, got, slogWant)
		}
	}
}
