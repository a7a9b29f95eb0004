// Command kata-ttrpc-health-server serves only grpc.Health over containerd's
// ttrpc. It is the Go baseline the agent's ttrpc server is benchmarked against,
// and a known-good server for testing the test client itself.
//
//	kata-ttrpc-health-server --addr unix:///tmp/h.sock [--agent-version go-reference] [--version-delay 0]
//
// --version-delay makes Version a slow call, a stand-in for the agent's
// blocking RPCs when testing the client's "concurrent" command.
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
	flag.Parse()
	if err := run(*addr, health{*agentVersion, *versionDelay}); err != nil {
		fmt.Fprintln(os.Stderr, "kata-ttrpc-health-server:", err)
		os.Exit(1)
	}
}

func run(addr string, svc health) error {
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
