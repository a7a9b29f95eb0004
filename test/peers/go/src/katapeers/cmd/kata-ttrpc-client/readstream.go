package main

import (
	"context"
	"flag"
	"io/ioutil"
	"time"

	pb "github.com/kata-containers/kata-containers/src/runtime/virtcontainers/pkg/agent/protocols/grpc"
)

type readStreamResult struct {
	Bytes   int64   `json:"bytes"`
	Calls   int     `json:"calls"`
	Seconds float64 `json:"seconds"`
	MBps    float64 `json:"mbps"`
}

// runReadStream reads a process's stdout (or stderr) to EOF the way the runtime's
// iostream.go does: sequential ReadStdout calls of --len bytes, no deadline.
// It measures throughput, so it is timed from the first call to EOF.
func runReadStream(ctx context.Context, p *peer, args []string) (interface{}, error) {
	fs := flag.NewFlagSet("read-stream", flag.ContinueOnError)
	fs.SetOutput(ioutil.Discard)
	cid := fs.String("container-id", "", "container id")
	eid := fs.String("exec-id", "", "exec id (default: the container id)")
	n := fs.Uint("len", 32768, "bytes asked for per call")
	stderr := fs.Bool("stderr", false, "read stderr instead of stdout")
	if err := fs.Parse(args); err != nil {
		return nil, usageError("read-stream: " + err.Error())
	}
	if *cid == "" {
		return nil, usageError("read-stream: --container-id is required")
	}
	if *eid == "" {
		*eid = *cid
	}
	req := &pb.ReadStreamRequest{ContainerId: *cid, ExecId: *eid, Len: uint32(*n)}
	var res readStreamResult
	start := time.Now()
	for {
		var resp *pb.ReadStreamResponse
		var err error
		if *stderr {
			resp, err = p.agent.ReadStderr(ctx, req)
		} else {
			resp, err = p.agent.ReadStdout(ctx, req)
		}
		if err != nil {
			return nil, err
		}
		res.Calls++
		if len(resp.Data) == 0 {
			break
		}
		res.Bytes += int64(len(resp.Data))
	}
	res.Seconds = round(time.Since(start).Seconds(), 4)
	res.MBps = round(float64(res.Bytes)/1e6/time.Since(start).Seconds(), 1)
	return res, nil
}
