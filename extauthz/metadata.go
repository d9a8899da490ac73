package extauthz

import (
	"sync"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
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
		k.shadow = decisionlog.Result(res)
	}
	return k
}

// encodedMetadata caches the dynamic_metadata field of allow responses,
// already encoded: marshalling a protobuf Struct (a map of Values) per
// Check was half the cost of building and sending an allow. The bytes are
// attached as the response's unknown fields, which protobuf writes out
// verbatim, so Envoy receives exactly the field fillMetadata describes.
type encodedMetadata struct {
	mu sync.RWMutex
	m  map[metadataKey]protoreflect.RawFields
}

// responseCaches are the values a Server's responses share. Each Server
// owns its own (no package state), and Reset replaces them on reload.
type responseCaches struct {
	values valueCache
	meta   encodedMetadata
}

// newResponseCaches returns empty caches, each bounded (maxInterned,
// maxEncodedMetadata).
func newResponseCaches() *responseCaches { return &responseCaches{} }

// metadata is the encoded dynamic_metadata field of an allow for res.
func (rc *responseCaches) metadata(res *decision.Result) protoreflect.RawFields {
	c := &rc.meta
	k := keyOf(res)
	c.mu.RLock()
	b, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return b
	}
	raw, err := proto.Marshal(rc.fillMetadata(&structpb.Struct{}, res))
	if err != nil { // a Struct of strings always marshals; send none rather than fail
		return nil
	}
	b = protowire.AppendTag(nil, dynamicMetadataField, protowire.BytesType)
	b = protowire.AppendBytes(b, raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[metadataKey]protoreflect.RawFields)
	}
	if len(c.m) >= maxEncodedMetadata {
		for victim := range c.m { // evict an arbitrary entry
			delete(c.m, victim)
			break
		}
	}
	c.m[k] = b
	return b
}
