package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gogo/protobuf/jsonpb"
	"github.com/gogo/protobuf/proto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	exitRPCError   = 1
	exitUsage      = 2
	exitLocalError = 3
)

// jsonMarshaler renders responses in proto3 JSON with the .proto field names.
// Defaults are emitted so that e.g. an empty ReadStreamResponse.data (EOF) or a
// zero WaitProcessResponse.status is visible to the test.
var jsonMarshaler = jsonpb.Marshaler{OrigName: true, EmitDefaults: true}

type errorBody struct {
	Code       string `json:"code"`
	CodeNumber int    `json:"codeNumber"`
	Message    string `json:"message"`
	// Local marks errors produced by this client (dial failure, closed
	// connection, client-side deadline) rather than sent by the server.
	Local bool `json:"local,omitempty"`
}

type usageErr string

func (e usageErr) Error() string { return string(e) }

func usageError(msg string) error { return usageErr(msg) }

// describe classifies err and picks the exit code.
func describe(err error) (errorBody, int) {
	var u usageErr
	if errors.As(err, &u) {
		return errorBody{Code: codes.InvalidArgument.String(), CodeNumber: int(codes.InvalidArgument), Message: u.Error(), Local: true}, exitUsage
	}
	if st, ok := status.FromError(err); ok {
		return errorBody{Code: st.Code().String(), CodeNumber: int(st.Code()), Message: st.Message()}, exitRPCError
	}
	code := codes.Unavailable // dial errors and "ttrpc: closed", like grpc-go reports them
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return errorBody{Code: code.String(), CodeNumber: int(code), Message: err.Error(), Local: true}, exitLocalError
}

func printError(w io.Writer, err error) int {
	body, exit := describe(err)
	printJSON(w, map[string]errorBody{"error": body})
	return exit
}

// toJSON marshals protobuf messages with jsonpb and anything else with encoding/json.
func toJSON(v interface{}) (json.RawMessage, error) {
	if m, ok := v.(proto.Message); ok {
		var b bytes.Buffer
		if err := jsonMarshaler.Marshal(&b, m); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	return json.Marshal(v)
}

func printJSON(w io.Writer, v interface{}) int {
	b, err := toJSON(v)
	if err != nil {
		// Cannot happen for our own types; keep the one-JSON-object contract anyway.
		b, _ = json.Marshal(map[string]errorBody{"error": {Code: "Internal", CodeNumber: int(codes.Internal), Message: fmt.Sprintf("encoding output: %v", err), Local: true}})
		fmt.Fprintln(w, string(b))
		return exitLocalError
	}
	fmt.Fprintln(w, string(b))
	return 0
}
