package extauthz

import (
	"unsafe"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/internal/cache"
)

// dynamicMetadataField is CheckResponse.dynamic_metadata's field number.
var dynamicMetadataField = protowire.Number((&authv3.CheckResponse{}).ProtoReflect().Descriptor().
	Fields().ByName("dynamic_metadata").Number())

// maxEncodedMetadata bounds the cache of encoded metadata (entries).
const maxEncodedMetadata = 10000

// metadataKey is everything fillMetadata reads but the subject: the cache
// holds one entry per route and outcome, not one per user.
type metadataKey struct {
	reason, route, issuer, degraded, shadow string
	identified                              bool
}

func keyOf(res *decision.Result) metadataKey {
	k := metadataKey{reason: res.Reason, route: res.Route}
	if id := res.Identity; id != nil {
		k.issuer, k.degraded, k.identified = id.Issuer, id.Degraded, true
	}
	if res.Shadow {
		k.shadow = decisionlog.Result(res)
	}
	return k
}

// metadataBytesPerEntry is the average size budget of an encoded entry (a
// typical one is about 0.1 KB): at most maxEncodedMetadata entries and
// that many times this many bytes.
const metadataBytesPerEntry = 1 << 10

// encodedMetadata caches the dynamic_metadata Struct of allow responses,
// already encoded, without the subject: marshalling a protobuf Struct (a
// map of Values) per Check was half the cost of building and sending an
// allow. The subject's map entry is appended per Check (map entries may
// come in any order), and the whole is attached as the response's unknown
// fields, which protobuf writes out verbatim, so Envoy receives exactly the
// field fillMetadata describes. Keyed without the subject, the cache does
// not grow with the number of users.
type encodedMetadata struct {
	c *cache.Cache[metadataKey, []byte]
}

// responseCaches are the values a Server's responses share. Each Server
// owns its own (no package state), and Reset replaces them on reload.
type responseCaches struct {
	values valueCache
	meta   encodedMetadata
}

// newResponseCaches returns empty caches, each bounded (maxInterned;
// maxEncodedMetadata entries and metadataBytesPerEntry bytes each).
func newResponseCaches() *responseCaches {
	return &responseCaches{
		values: valueCache{c: cache.NewReadMostly[string, *structpb.Value](maxInterned)},
		meta: encodedMetadata{c: cache.New[metadataKey, []byte](
			cache.Config{MaxEntries: maxEncodedMetadata, MaxBytes: maxEncodedMetadata * metadataBytesPerEntry}, nil)},
	}
}

// metadata returns the encoded dynamic_metadata field of an allow for res,
// appended to dst.
func (rc *responseCaches) metadata(dst []byte, res *decision.Result) protoreflect.RawFields {
	c := &rc.meta
	k := keyOf(res)
	inner, ok := c.c.Get(k)
	if !ok {
		var err error
		md := rc.fillMetadata(&structpb.Struct{}, res)
		delete(md.Fields, "subject")
		inner, err = proto.MarshalOptions{Deterministic: true}.Marshal(md)
		if err != nil { // a Struct of strings always marshals; send none rather than fail
			return nil
		}
		const overhead = int(unsafe.Sizeof(metadataKey{})) + 24 + 16 // key, slice, map slot
		c.c.Put(k, inner, overhead+cap(inner))
	}
	if res.Identity != nil { // the Struct's map entry "subject": a string Value
		sub := res.Identity.Subject
		valueLen := protowire.SizeTag(3) + protowire.SizeBytes(len(sub))
		entryLen := protowire.SizeTag(1) + protowire.SizeBytes(len("subject")) + protowire.SizeTag(2) + protowire.SizeBytes(valueLen)
		size := protowire.SizeTag(1) + protowire.SizeBytes(entryLen)
		b := dst
		b = protowire.AppendTag(b, dynamicMetadataField, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(len(inner)+size))
		b = append(b, inner...)
		b = protowire.AppendTag(b, 1, protowire.BytesType) // Struct.fields
		b = protowire.AppendVarint(b, uint64(entryLen))
		b = protowire.AppendTag(b, 1, protowire.BytesType) // key
		b = protowire.AppendString(b, "subject")
		b = protowire.AppendTag(b, 2, protowire.BytesType) // value
		b = protowire.AppendVarint(b, uint64(valueLen))
		b = protowire.AppendTag(b, 3, protowire.BytesType) // Value.string_value
		b = protowire.AppendString(b, sub)
		return b
	}
	b := protowire.AppendTag(dst, dynamicMetadataField, protowire.BytesType)
	return protowire.AppendBytes(b, inner)
}
