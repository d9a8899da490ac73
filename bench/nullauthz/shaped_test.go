package main

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestShapedAllowSize: the shaped allow encodes to exactly the size asked,
// across the sizes where the padded value's length prefix grows.
func TestShapedAllowSize(t *testing.T) {
	for _, size := range []int{700, 968, 1000, 1900, 20000} {
		r, err := shapedAllow(size)
		if err != nil {
			t.Fatal(err)
		}
		if got := proto.Size(r); got != size || r.GetOkResponse() == nil {
			t.Fatalf("asked %d bytes, got %d", size, got)
		}
	}
	if _, err := shapedAllow(10); err == nil {
		t.Fatal("10 bytes accepted")
	}
}
