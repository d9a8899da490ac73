package extauthz

import (
	"unsafe"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/internal/cache"
)

// dynamicMetadataField is CheckResponse.dynamic_metadata's field number.
var dynamicMetadataField = protowire.Number((&authv3.CheckResponse{}).ProtoReflect().Descriptor().
	Fields().ByName("dynamic_metadata").Number())

// maxEncodedMetadata bounds the cache of encoded metadata (entries).
const maxEncodedMetadata = 10000

// metadataKey is everything fillMetadata reads.
type metadataKey struct {
	reason, route, issuer, subject, degraded, shadow string
}

func keyOf(res *decision.Result) metadataKey {
	k := metadataKey{reason: res.Reason, route: res.Route}
	if id := res.Identity; id != nil {
		k.issuer, k.subject, k.degraded = id.Issuer, id.Subject, id.Degraded
	}
	if res.Shadow {
		k.shadow = result(res)
	}
	return k
}

// metadataBytesPerEntry is the average size budget of an encoded entry (a
// typical one is about 0.2 KB): at most maxEncodedMetadata entries and
// that many times this many bytes.
const metadataBytesPerEntry = 1 << 10

// encodedMetadata caches the dynamic_metadata field of allow responses,
// already encoded: marshalling a protobuf Struct (a map of Values) per
// Check was half the cost of building and sending an allow. The bytes are
// attached as the response's unknown fields, which protobuf writes out
// verbatim, so Envoy receives exactly the field fillMetadata describes.
type encodedMetadata struct {
	c *cache.Cache[metadataKey, protoreflect.RawFields]
}

var allowMetadata = encodedMetadata{c: cache.New[metadataKey, protoreflect.RawFields](
	cache.Config{MaxEntries: maxEncodedMetadata, MaxBytes: maxEncodedMetadata * metadataBytesPerEntry}, nil)}

func (c *encodedMetadata) get(res *decision.Result) protoreflect.RawFields {
	k := keyOf(res)
	if b, ok := c.c.Get(k); ok {
		return b
	}
	raw, err := proto.Marshal(fillMetadata(&structpb.Struct{}, res))
	if err != nil { // a Struct of strings always marshals; send none rather than fail
		return nil
	}
	b := protowire.AppendTag(nil, dynamicMetadataField, protowire.BytesType)
	b = protowire.AppendBytes(b, raw)
	const overhead = int(unsafe.Sizeof(metadataKey{})) + 24 + 16 // key, slice, map slot
	c.c.Put(k, b, overhead+cap(b))
	return b
}
