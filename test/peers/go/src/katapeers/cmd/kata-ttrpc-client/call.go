package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io/ioutil"
	"reflect"
	"sort"
	"strings"

	"github.com/gogo/protobuf/jsonpb"
	"github.com/gogo/protobuf/proto"
	"github.com/gogo/protobuf/protoc-gen-gogo/descriptor"

	// Registers google.protobuf.Empty under its full name for lookups below.
	_ "github.com/gogo/protobuf/types"
)

// protoFiles are the generated files whose services the client knows.
var protoFiles = []string{"agent.proto", "health.proto"}

// method is an RPC's request and response type names, e.g. "grpc.CheckRequest".
type method struct{ in, out string }

// methods maps "grpc.Health/Check" to its types. It is read from the file
// descriptors the generated code registers, so every RPC in the protos is
// callable without a hand-written table.
var methods = func() map[string]method {
	m := map[string]method{}
	for _, name := range protoFiles {
		fd, err := fileDescriptor(name)
		if err != nil {
			panic(fmt.Sprintf("descriptor of %s: %v", name, err))
		}
		for _, svc := range fd.Service {
			for _, rpc := range svc.Method {
				key := fd.GetPackage() + "." + svc.GetName() + "/" + rpc.GetName()
				m[key] = method{strings.TrimPrefix(rpc.GetInputType(), "."), strings.TrimPrefix(rpc.GetOutputType(), ".")}
			}
		}
	}
	return m
}()

func fileDescriptor(name string) (*descriptor.FileDescriptorProto, error) {
	gz := proto.FileDescriptor(name)
	if gz == nil {
		return nil, fmt.Errorf("not registered")
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	raw, err := ioutil.ReadAll(r)
	if err != nil {
		return nil, err
	}
	fd := &descriptor.FileDescriptorProto{}
	return fd, proto.Unmarshal(raw, fd)
}

func newMessage(name string) proto.Message {
	t := proto.MessageType(name)
	if t == nil {
		panic("message type not registered: " + name)
	}
	return reflect.New(t.Elem()).Interface().(proto.Message)
}

// rawPayload carries bytes the client has no schema for, so that calls to
// unknown services or methods still reach the server (to test its errors).
type rawPayload struct{ b []byte }

func (r *rawPayload) Reset()                   { r.b = nil }
func (r *rawPayload) String() string           { return fmt.Sprintf("%x", r.b) }
func (*rawPayload) ProtoMessage()              {}
func (r *rawPayload) Marshal() ([]byte, error) { return r.b, nil }
func (r *rawPayload) Unmarshal(b []byte) error { r.b = append([]byte(nil), b...); return nil }

// newCall builds the request and an empty response for service/method from
// proto3 JSON. Field names may be the .proto names or their lowerCamel forms.
func newCall(service, name, reqJSON string) (req, resp proto.Message, err error) {
	m, known := methods[service+"/"+name]
	if !known {
		if strings.TrimSpace(reqJSON) != "{}" {
			return nil, nil, usageError(fmt.Sprintf("unknown method %s/%s: only '{}' (an empty payload) can be sent to it", service, name))
		}
		return &rawPayload{}, &rawPayload{}, nil
	}
	req, resp = newMessage(m.in), newMessage(m.out)
	if err := jsonpb.UnmarshalString(reqJSON, req); err != nil {
		return nil, nil, usageError(fmt.Sprintf("request JSON for %s: %v", m.in, err))
	}
	return req, resp, nil
}

// invoke performs one unary call; responses of unknown methods come back as
// {"rawPayloadBase64": ...}.
func (p *peer) invoke(ctx context.Context, service, name string, req, resp proto.Message) (interface{}, error) {
	if err := p.client.Call(ctx, service, name, req, resp); err != nil {
		return nil, err
	}
	if raw, ok := resp.(*rawPayload); ok {
		return map[string]string{"rawPayloadBase64": base64.StdEncoding.EncodeToString(raw.b)}, nil
	}
	return resp, nil
}

func runCall(ctx context.Context, p *peer, args []string) (interface{}, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, usageError("usage: call <Service> <Method> [<request-json>]")
	}
	reqJSON := "{}"
	if len(args) == 3 {
		reqJSON = args[2]
	}
	req, resp, err := newCall(args[0], args[1], reqJSON)
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.callContext(ctx)
	defer cancel()
	return p.invoke(ctx, args[0], args[1], req, resp)
}

type methodInfo struct {
	Service  string `json:"service"`
	Method   string `json:"method"`
	Request  string `json:"request"`
	Response string `json:"response"`
}

func runMethods(_ context.Context, _ *peer, args []string) (interface{}, error) {
	if len(args) != 0 {
		return nil, usageError("methods takes no arguments")
	}
	list := make([]methodInfo, 0, len(methods))
	for key, m := range methods {
		svc, name := key[:strings.LastIndex(key, "/")], key[strings.LastIndex(key, "/")+1:]
		list = append(list, methodInfo{svc, name, m.in, m.out})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Service != list[j].Service {
			return list[i].Service < list[j].Service
		}
		return list[i].Method < list[j].Method
	})
	return map[string]interface{}{"count": len(list), "methods": list}, nil
}
