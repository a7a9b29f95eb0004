// Command kata-ttrpc-health-server serves only grpc.Health over containerd's
// ttrpc. It is the Go baseline the agent's ttrpc server is benchmarked against,
// and a known-good server for testing the test client itself.
//
//	kata-ttrpc-health-server --addr unix:///tmp/h.sock [--agent-version go-reference] [--version-delay 0] [--stream-bytes N]
//
// --version-delay makes Version a slow call, a stand-in for the agent's
// blocking RPCs when testing the client's "concurrent" command.
//
// --stream-bytes also serves grpc.AgentService/ReadStdout: N zero bytes per
// container and exec id, at most len per call, then an empty reply (EOF). It
// is the Go baseline of the agent's output path (from memory, no pipe).
//
// Once listening it prints one JSON line ({"listening":ADDR,"pid":N}) on stdout,
// so a test can wait for readiness without polling the socket.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/ttrpc"
	pb "github.com/kata-containers/kata-containers/src/runtime/virtcontainers/pkg/agent/protocols/grpc"

	"katapeers/peeraddr"
)

type health struct {
	agentVersion string
	versionDelay time.Duration
}

func (health) Check(context.Context, *pb.CheckRequest) (*pb.HealthCheckResponse, error) {
	return &pb.HealthCheckResponse{Status: pb.HealthCheckResponse_SERVING}, nil
}

func (h health) Version(ctx context.Context, _ *pb.CheckRequest) (*pb.VersionCheckResponse, error) {
	select {
	case <-time.After(h.versionDelay):
	case <-ctx.Done(): // the request's timeout_nano expired or the client went away
		return nil, ctx.Err()
	}
	// Same API version string as the Kata agent.
	return &pb.VersionCheckResponse{GrpcVersion: "0.0.1", AgentVersion: h.agentVersion}, nil
}

func main() {
	addr := flag.String("addr", "", "listen address: unix:///path, unix://@abstract or tcp://host:port")
	agentVersion := flag.String("agent-version", "go-reference", "agent_version returned by Health.Version")
	versionDelay := flag.Duration("version-delay", 0, "delay before Version answers")
	streamBytes := flag.Int64("stream-bytes", 0, "also serve ReadStdout: this many bytes per exec, then EOF")
	flag.Parse()
	if err := run(*addr, health{*agentVersion, *versionDelay}, *streamBytes); err != nil {
		fmt.Fprintln(os.Stderr, "kata-ttrpc-health-server:", err)
		os.Exit(1)
	}
}

// registerStream serves ReadStdout alone, with a method table (the generated
// registration wants every AgentService method).
func registerStream(srv *ttrpc.Server, total int64) {
	var mu sync.Mutex
	left := map[string]int64{}
	srv.Register("grpc.AgentService", map[string]ttrpc.Method{
		"ReadStdout": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req pb.ReadStreamRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			key := req.ContainerId + "/" + req.ExecId
			mu.Lock()
			n, seen := left[key]
			if !seen {
				n = total
			}
			chunk := int64(req.Len)
			if chunk > n {
				chunk = n
			}
			left[key] = n - chunk
			mu.Unlock()
			return &pb.ReadStreamResponse{Data: make([]byte, chunk)}, nil
		},
	})
}

func run(addr string, svc health, streamBytes int64) error {
	if addr == "" {
		return fmt.Errorf("--addr is required")
	}
	l, err := peeraddr.Listen(addr)
	if err != nil {
		return err
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	pb.RegisterHealthService(srv, svc)
	if streamBytes > 0 {
		registerStream(srv, streamBytes)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		// Give in-flight calls a moment, then drop connections: tests kill us at teardown.
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	ready, _ := json.Marshal(map[string]interface{}{"listening": addr, "pid": os.Getpid()})
	fmt.Println(string(ready))

	if err := srv.Serve(ctx, l); err != nil && err != ttrpc.ErrServerClosed {
		return err
	}
	return nil
}
