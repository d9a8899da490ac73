package claimjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type member struct{ name, value string }

func members(t testing.TB, b string) ([]member, error) {
	t.Helper()
	var out []member
	err := Members([]byte(b), func(n, v []byte) error {
		out = append(out, member{string(n), string(v)})
		return nil
	})
	return out, err
}

func TestMembers(t *testing.T) {
	var big strings.Builder
	big.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&big, `"c%d":%d,`, i, i)
	}
	tests := []struct {
		name    string
		in      string
		want    []member
		wantErr error
	}{
		{"empty object", ` { } `, nil, nil},
		{"exact names", `{"email":"a@x","Email":"b@x","GROUPS":["g"]}`,
			[]member{{"email", `"a@x"`}, {"Email", `"b@x"`}, {"GROUPS", `["g"]`}}, nil},
		{"escaped name decoded", `{"\u0065mail":"a@x"}`, []member{{"email", `"a@x"`}}, nil},
		{"nested values whole", "{\"a\":{\"b\":[1,{\"c\":\"}]\\\"\"}]},\n\"d\" : null , \"e\":-1.5e3}",
			[]member{{"a", `{"b":[1,{"c":"}]\""}]}`}, {"d", "null"}, {"e", "-1.5e3"}}, nil},
		{"nested duplicates are not top-level", `{"a":{"x":1,"x":2}}`, []member{{"a", `{"x":1,"x":2}`}}, nil},
		{"duplicate", `{"sub":"a","sub":"b"}`, nil, ErrDuplicate},
		{"duplicate spelled with an escape", `{"sub":"a","s\u0075b":"b"}`, nil, ErrDuplicate},
		{"duplicate past the small set", big.String() + `"c3":0}`, nil, ErrDuplicate},
		{"not an object", `["a"]`, nil, ErrMalformed},
		{"string", `"a"`, nil, ErrMalformed},
		{"trailing data", `{"a":1}{}`, nil, ErrMalformed},
		{"truncated", `{"a":1`, nil, ErrMalformed},
		{"empty input", ``, nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := members(t, tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Members(%q) error = %v, want %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("Members(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	t.Run("many distinct names", func(t *testing.T) {
		got, err := members(t, big.String()+`"z":0}`)
		if err != nil || len(got) != 41 {
			t.Fatalf("got %d members, %v", len(got), err)
		}
	})
}

func TestValues(t *testing.T) {
	strs := []struct {
		in, want string
		ok       bool
	}{
		{`"a@x"`, "a@x", true}, {`null`, "", true}, {`"\u00e9\n"`, "é\n", true},
		{`5`, "", false}, {`true`, "", false}, {`["a"]`, "", false},
	}
	for _, tc := range strs {
		t.Run("string "+tc.in, func(t *testing.T) {
			got, err := String([]byte(tc.in))
			if got != tc.want || (err == nil) != tc.ok {
				t.Fatalf("String(%s) = %q, %v", tc.in, got, err)
			}
		})
	}
	nums := []struct {
		in   string
		want float64
		ok   bool
	}{
		{`1800000000`, 1.8e9, true}, {`-0.5`, -0.5, true}, {`1e400`, 0, false}, {`"1"`, 0, false}, {`null`, 0, false},
	}
	for _, tc := range nums {
		t.Run("number "+tc.in, func(t *testing.T) {
			got, err := Number([]byte(tc.in))
			if got != tc.want || (err == nil) != tc.ok {
				t.Fatalf("Number(%s) = %v, %v", tc.in, got, err)
			}
		})
	}
	has := []struct {
		in   string
		want bool
		ok   bool
	}{
		{`{"groups":"src1"}`, true, true}, {`{"Groups":"src1"}`, false, true}, {`null`, false, true}, {`"groups"`, false, false},
	}
	for _, tc := range has {
		t.Run("has "+tc.in, func(t *testing.T) {
			got, err := Has([]byte(tc.in), "groups")
			if got != tc.want || (err == nil) != tc.ok {
				t.Fatalf("Has(%s) = %v, %v", tc.in, got, err)
			}
		})
	}
}

// FuzzMembers checks Members against encoding/json: on every object
// encoding/json accepts, Members yields the same names and values, unless
// a name repeats, which Members alone refuses.
func FuzzMembers(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		got := map[string][]byte{}
		n := 0
		err := Members(b, func(name, v []byte) error {
			got[string(name)] = bytes.Clone(v)
			n++
			return nil
		})
		var want map[string]json.RawMessage
		werr := json.Unmarshal(b, &want)
		switch {
		case errors.Is(err, ErrDuplicate):
			if werr != nil {
				t.Fatalf("duplicate reported on input encoding/json refuses: %v", werr)
			}
			return
		case err != nil:
			if werr == nil && want != nil {
				t.Fatalf("Members refused an object: %v", err)
			}
			return
		case werr != nil || want == nil:
			t.Fatalf("Members accepted what encoding/json refuses (%v)", werr)
		}
		if n != len(want) || len(got) != len(want) {
			t.Fatalf("Members saw %d names, encoding/json %d", n, len(want))
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("member %q = %q, want %q", k, got[k], v)
			}
		}
	})
}
