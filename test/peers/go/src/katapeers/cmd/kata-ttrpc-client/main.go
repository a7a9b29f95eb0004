// Command kata-ttrpc-client is an independent ttrpc peer for testing the Kata
// agent. It uses containerd's ttrpc client and gogo messages generated from
// agent/proto, i.e. the same stack as the Kata Go runtime (modulo ttrpc 1.1 vs
// 1.2, which are identical on the wire).
//
// Every command prints exactly one JSON object on stdout. Exit codes:
//
//	0  success
//	1  the server answered with an RPC error  ({"error":{"code":"Unimplemented","codeNumber":12,...}})
//	2  usage error (bad flags, bad request JSON)
//	3  local failure: dial error, connection closed, client-side deadline ("local":true)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/containerd/ttrpc"
	pb "github.com/kata-containers/kata-containers/src/runtime/virtcontainers/pkg/agent/protocols/grpc"

	"katapeers/peeraddr"
)

// command is one subcommand. Scenarios that drive several RPCs (bench,
// concurrent, and the Kata-runtime-like "pod" lifecycle in pod.go) are commands
// like any other: each lives in its own file, gets a connected *peer and
// returns the value to print.
type command struct {
	args string
	help string
	run  func(ctx context.Context, p *peer, args []string) (interface{}, error)
	// offline commands get a nil peer and need no --addr.
	offline bool
}

var commands = map[string]command{
	"check":   {help: "Health.Check", run: runCheck},
	"version": {help: "Health.Version", run: runVersion},
	"call": {args: "<Service> <Method> [<request-json>]", run: runCall,
		help: "any RPC; request/response in proto3 JSON with the .proto field names"},
	"bench": {args: "[--n 20000] [--warmup 200]", run: runBench,
		help: "sequential Health.Check round trips on one connection"},
	"concurrent": {args: "--blocking-method M [--blocking-service S] [--blocking-request JSON] [--checks 5] [--interval 200ms] [--check-timeout 2s] [--blocking-wait 0]", run: runConcurrent,
		help: "Health.Check every interval while a blocking call is pending on the same connection"},
	"read-stream": {args: "--container-id ID [--exec-id ID] [--len 32768] [--stderr]", run: runReadStream,
		help: "read a process's stdout (or stderr) to EOF as the runtime does; prints bytes, calls and MB/s"},
	"methods": {run: runMethods, offline: true,
		help: "list every RPC the client knows (no connection needed)"},
	"pod": {args: "--rootfs DIR --runtime-spec FILE [--oom-mb 0] [--hold 0s] [--lines 200] [--monitor-interval 1s] [--deadline 120s] [--json]  (pod -h lists all flags)", run: runPod,
		help: "one pod driven exactly as the Kata Go runtime does (sandbox, pause + workload container, I/O, OOM watcher, health monitor, stop, DestroySandbox)"},
	"convert-spec": {args: "--runtime-spec FILE [--rootfs DIR] [--raw]", run: runConvertSpec, offline: true,
		help: "print the protobuf Spec the pod command sends for an OCI config.json (no connection needed)"},
}

// peer is one connection to the server with the typed stubs on top of it.
type peer struct {
	client *ttrpc.Client
	health pb.HealthService
	agent  pb.AgentServiceService // typed stub for multi-RPC scenarios such as "pod"

	timeout time.Duration // sent as Request.timeout_nano; 0 means no deadline
	grace   time.Duration // extra time the client waits beyond timeout
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(argv []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kata-ttrpc-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(stderr) }
	addr := fs.String("addr", "", "server address: unix:///path, unix://@abstract or tcp://host:port")
	timeout := fs.Duration("timeout", 0, "per-call deadline, sent to the server as timeout_nano (0 = none)")
	grace := fs.Duration("grace", 0, "how much longer than --timeout the client waits, so the server's own DEADLINE_EXCEEDED can be observed")
	dialTimeout := fs.Duration("dial-timeout", 5*time.Second, "connect timeout")
	if err := fs.Parse(argv); err != nil {
		return printError(stdout, usageError(err.Error()))
	}
	name, args := fs.Arg(0), fs.Args()
	if len(args) > 0 {
		args = args[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		usage(stderr)
		return printError(stdout, usageError(fmt.Sprintf("unknown command %q", name)))
	}
	ctx := context.Background()
	// "<command> -h" needs no connection: commands parse their flags before using the peer.
	if cmd.offline || (len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help")) {
		out, err := cmd.run(ctx, nil, args)
		return finish(stdout, out, err)
	}
	if *addr == "" {
		return printError(stdout, usageError("--addr is required"))
	}
	if _, _, err := peeraddr.Parse(*addr); err != nil {
		return printError(stdout, usageError(err.Error()))
	}

	dctx, cancel := context.WithTimeout(ctx, *dialTimeout)
	conn, err := peeraddr.Dial(dctx, *addr)
	cancel()
	if err != nil {
		return printError(stdout, err)
	}
	p := &peer{timeout: *timeout, grace: *grace}
	p.client = ttrpc.NewClient(conn, ttrpc.WithUnaryClientInterceptor(wireTimeout))
	defer p.client.Close()
	p.health = pb.NewHealthClient(p.client)
	p.agent = pb.NewAgentServiceClient(p.client)

	out, err := cmd.run(ctx, p, args)
	return finish(stdout, out, err)
}

func finish(stdout io.Writer, out interface{}, err error) int {
	var partial reportError
	switch {
	case errors.As(err, &partial):
		printJSON(stdout, partial.report)
		return exitRPCError
	case err != nil:
		return printError(stdout, err)
	}
	return printJSON(stdout, out)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: kata-ttrpc-client --addr ADDR [--timeout D [--grace D]] <command> [args]")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  %s\n      %s\n", strings.TrimSpace(n+" "+c.args), c.help)
	}
}

type wireTimeoutKey struct{}

// callObserver, if set, is told when each call (full method "/svc/Method")
// is sent and, through the returned function, when it has been answered.
var callObserver func(fullMethod string) (done func())

// callContext returns the context for one RPC. The server is told --timeout
// (through wireTimeout below) while the client itself waits --timeout+--grace.
func (p *peer) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	ctx = context.WithValue(ctx, wireTimeoutKey{}, p.timeout)
	return context.WithTimeout(ctx, p.timeout+p.grace)
}

// wireTimeout overrides the timeout_nano that ttrpc derived from the context
// deadline, because that deadline includes the client's grace period.
// It also reports every call to callObserver, when a scenario has set one.
func wireTimeout(ctx context.Context, req *ttrpc.Request, resp *ttrpc.Response, info *ttrpc.UnaryClientInfo, invoke ttrpc.Invoker) error {
	if callObserver != nil {
		defer callObserver(info.FullMethod)()
	}
	if d, ok := ctx.Value(wireTimeoutKey{}).(time.Duration); ok {
		req.TimeoutNano = d.Nanoseconds()
	}
	return invoke(ctx, req, resp)
}

func runCheck(ctx context.Context, p *peer, args []string) (interface{}, error) {
	if len(args) != 0 {
		return nil, usageError("check takes no arguments")
	}
	ctx, cancel := p.callContext(ctx)
	defer cancel()
	return p.health.Check(ctx, &pb.CheckRequest{})
}

func runVersion(ctx context.Context, p *peer, args []string) (interface{}, error) {
	if len(args) != 0 {
		return nil, usageError("version takes no arguments")
	}
	ctx, cancel := p.callContext(ctx)
	defer cancel()
	return p.health.Version(ctx, &pb.CheckRequest{})
}
