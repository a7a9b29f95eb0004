package main

// The "pod" scenario: one pod driven over one connection exactly as the Kata
// Go runtime drives it (virtcontainers' kata_agent.go): readiness Check, a Check
// monitor, CreateSandbox, GetGuestDetails, the GetOOMEvent watcher, the pause
// container, a workload container whose output is read the way iostream.go
// reads it and which is waited for only after both streams reached EOF, then
// Container.stop for both containers and DestroySandbox.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/proto"
	pb "github.com/kata-containers/kata-containers/src/runtime/virtcontainers/pkg/agent/protocols/grpc"
)

const (
	// Deadlines the runtime puts on calls (kata_agent.go getReqContext).
	checkDeadline  = 30 * time.Second
	createDeadline = 60 * time.Second // create_container_timeout default
	callDeadline   = 60 * time.Second // everything else, except the blocking calls (none)
	noDeadline     = 0

	ioBufSize      = 32 << 10 // iostream.go bufSize
	oomRetryPause  = time.Second
	watcherLinger  = 10 * time.Second // how long the OOM watcher may stay pending after DestroySandbox
	workloadStatus = 7
	oomStatus      = 128 + 9
)

// blockingMethods are the calls the runtime keeps pending without a deadline.
var blockingMethods = map[string]bool{"ReadStdout": true, "ReadStderr": true, "WaitProcess": true, "GetOOMEvent": true}

type podOptions struct {
	rootfs      string
	specFile    string
	oomMB       int
	hold        time.Duration
	lines       int
	interval    time.Duration
	deadline    time.Duration
	oomWait     time.Duration
	sandboxID   string
	workloadID  string
	hostname    string
	dns         stringList
	share9p     string
	jsonOutput  bool
	progressLog bool
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, "\n") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type stepRecord struct {
	Step  string     `json:"step"`
	AtMs  float64    `json:"atMs"`
	Ms    float64    `json:"ms"`
	OK    bool       `json:"ok"`
	Error *errorBody `json:"error,omitempty"`
	// Tolerated: the runtime ignores or only logs this call's errors.
	Tolerated bool   `json:"tolerated,omitempty"`
	Status    *int32 `json:"status,omitempty"` // WaitProcess
}

type checkRecord struct {
	Seq  int     `json:"seq"`
	AtMs float64 `json:"atMs"`
	Us   float64 `json:"us"`
	OK   bool    `json:"ok"`
	// BlockedBy: blocking calls pending both when the Check was sent and when it was answered.
	BlockedBy []string   `json:"blockedBy"`
	Error     *errorBody `json:"error,omitempty"`
}

type latencyStats struct {
	Checks int     `json:"checks"`
	MaxUs  float64 `json:"maxUs"`
	P50Us  float64 `json:"p50Us"`
}

type monitorReport struct {
	IntervalMs float64 `json:"intervalMs"`
	Checks     int     `json:"checks"`
	Failed     int     `json:"failed"`
	// All checks; those while any blocking call was pending; those while
	// ReadStdout/ReadStderr/WaitProcess (not only GetOOMEvent) were pending.
	All           latencyStats  `json:"all"`
	WhileBlocking latencyStats  `json:"whileBlocking"`
	WhileIO       latencyStats  `json:"whileIo"`
	Samples       []checkRecord `json:"samples"`
}

type streamReport struct {
	Lines    int  `json:"lines"`
	Expected int  `json:"expected"`
	Bytes    int  `json:"bytes"`
	Reads    int  `json:"reads"` // non-empty replies
	EOF      bool `json:"eof"`
	// Complete: every expected line arrived exactly once and nothing else did.
	Complete bool `json:"complete"`
	// InOrder: the lines are exactly the expected sequence.
	InOrder       bool       `json:"inOrder"`
	FirstMismatch string     `json:"firstMismatch,omitempty"`
	EOFAtMs       float64    `json:"eofAtMs,omitempty"`
	Error         *errorBody `json:"error,omitempty"`
}

type oomRecord struct {
	ContainerID string  `json:"containerId"`
	AtMs        float64 `json:"atMs"`
}

type oomWatcherReport struct {
	Calls     int         `json:"calls"`
	Errors    []errorBody `json:"errors"`
	StoppedBy string      `json:"stoppedBy"`
}

type inFlightReport struct {
	Peak        int            `json:"peak"`
	PeakMethods map[string]int `json:"peakMethods"`
	Total       int            `json:"total"` // calls made
}

type podReport struct {
	OK             bool                 `json:"ok"`
	Failures       []string             `json:"failures"`
	Mode           string               `json:"mode"` // "output" or "oom"
	SandboxID      string               `json:"sandboxId"`
	WorkloadID     string               `json:"workloadId"`
	Workload       []string             `json:"workloadArgs"`
	SpecIgnored    []string             `json:"specIgnored"`
	SandboxPidns   bool                 `json:"sandboxPidns"`
	Stdout         streamReport         `json:"stdout"`
	Stderr         streamReport         `json:"stderr"`
	ExitStatus     *int32               `json:"exitStatus"`
	ExpectedStatus int32                `json:"expectedStatus"`
	OOMEvents      []oomRecord          `json:"oomEvents"`
	OOMWatcher     oomWatcherReport     `json:"oomWatcher"`
	Monitor        monitorReport        `json:"monitor"`
	InFlight       inFlightReport       `json:"inFlight"`
	GuestDetails   json.RawMessage      `json:"guestDetails,omitempty"`
	Steps          []stepRecord         `json:"steps"`
	Errors         map[string]errorBody `json:"errors"`
	Seconds        float64              `json:"seconds"`
}

// callTracker counts the calls in flight on the connection (fed by the client
// interceptor through callObserver).
type callTracker struct {
	mu          sync.Mutex
	pending     map[string]int
	now, peak   int
	total       int
	peakMethods map[string]int
}

func newCallTracker() *callTracker {
	return &callTracker{pending: map[string]int{}, peakMethods: map[string]int{}}
}

func (t *callTracker) begin(fullMethod string) func() {
	name := fullMethod[strings.LastIndex(fullMethod, "/")+1:]
	t.mu.Lock()
	t.pending[name]++
	t.now++
	t.total++
	if t.now > t.peak {
		t.peak = t.now
		t.peakMethods = map[string]int{}
		for k, v := range t.pending {
			t.peakMethods[k] = v
		}
	}
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		if t.pending[name]--; t.pending[name] == 0 {
			delete(t.pending, name)
		}
		t.now--
		t.mu.Unlock()
	}
}

func (t *callTracker) blocking() map[string]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]bool{}
	for k := range t.pending {
		if blockingMethods[k] {
			out[k] = true
		}
	}
	return out
}

type pod struct {
	p     *peer
	o     podOptions
	ctx   context.Context // cancelled by the watchdog; carries no deadline, so timeout_nano stays 0
	start time.Time
	calls *callTracker

	mu         sync.Mutex
	rep        podReport
	destroying bool
	oomSeen    chan string

	monitorStop, monitorDone chan struct{}
	oomDone                  chan struct{}
}

func runPod(ctx context.Context, p *peer, args []string) (interface{}, error) {
	o, err := parsePodArgs(args)
	if err != nil {
		return nil, err
	}
	spec, ignored, err := loadRuntimeSpec(o.specFile)
	if err != nil {
		return nil, usageError(err.Error())
	}
	if spec.Process == nil || spec.Linux == nil {
		return nil, usageError("runtime spec: process and linux are required")
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &pod{p: p, o: o, ctx: ctx, start: time.Now(), calls: newCallTracker(), oomSeen: make(chan string, 100)}
	s.rep = podReport{
		Mode: "output", SandboxID: o.sandboxID, WorkloadID: o.workloadID, SpecIgnored: ignored,
		ExpectedStatus: workloadStatus, Errors: map[string]errorBody{}, Failures: []string{},
		OOMEvents: []oomRecord{}, Steps: []stepRecord{}, OOMWatcher: oomWatcherReport{Errors: []errorBody{}},
	}
	if s.rep.SpecIgnored == nil {
		s.rep.SpecIgnored = []string{}
	}
	if o.oomMB > 0 {
		s.rep.Mode, s.rep.ExpectedStatus = "oom", oomStatus
	}
	callObserver = s.calls.begin

	timedOut := make(chan struct{})
	watchdog := time.AfterFunc(o.deadline, func() {
		close(timedOut)
		cancel()
	})
	s.run(spec)
	watchdog.Stop()
	select {
	case <-timedOut:
		s.fail("the scenario did not finish within --deadline %s (calls were abandoned)", o.deadline)
	default:
	}
	s.finish()
	if !s.rep.OK {
		return nil, reportError{s.rep}
	}
	return s.rep, nil
}

func parsePodArgs(args []string) (podOptions, error) {
	fs := flag.NewFlagSet("pod", flag.ContinueOnError)
	fs.SetOutput(os.Stderr) // -h and flag errors print the flags there; stdout keeps its one JSON object
	o := podOptions{}
	fs.StringVar(&o.rootfs, "rootfs", "", "container root filesystem (replaces root.path; required)")
	fs.StringVar(&o.specFile, "runtime-spec", "", "OCI runtime-spec config.json, e.g. from runc spec (required)")
	fs.IntVar(&o.oomMB, "oom-mb", 0, "> 0: the workload gets this memory limit (MiB) and outgrows it; an OOM event and status 137 are expected")
	fs.DurationVar(&o.hold, "hold", 0, "the workload sleeps this long before writing, so the reads stay pending across monitor checks")
	fs.IntVar(&o.lines, "lines", 200, "lines the workload writes to each of stdout and stderr")
	fs.DurationVar(&o.interval, "monitor-interval", time.Second, "Health.Check period of the monitor (the runtime's is 5s)")
	fs.DurationVar(&o.deadline, "deadline", 120*time.Second, "abandon the scenario after this long (the calls without a deadline could hang)")
	fs.DurationVar(&o.oomWait, "oom-wait", 10*time.Second, "with --oom-mb: how long after WaitProcess to wait for the OOM event")
	fs.StringVar(&o.sandboxID, "sandbox-id", "", "sandbox id (default: 64 random hex digits, as containerd makes)")
	fs.StringVar(&o.workloadID, "container-id", "", "workload container id (default: 64 random hex digits)")
	fs.StringVar(&o.hostname, "hostname", "", "CreateSandbox hostname (default: the spec's hostname)")
	fs.Var(&o.dns, "dns", "a resolv.conf line for CreateSandbox (repeatable; default: a Kubernetes-like resolv.conf)")
	fs.StringVar(&o.share9p, "share-9p", "", "a virtio-9p tag (e.g. kataShared): CreateSandbox mounts it at "+guestSharedDir+" as the runtime's shared directory")
	fs.BoolVar(&o.jsonOutput, "json", true, "print the report as one JSON object (always on: every command of this client prints JSON)")
	fs.BoolVar(&o.progressLog, "progress", true, "log each step to stderr")
	if err := fs.Parse(args); err != nil {
		return o, usageError("pod: " + err.Error())
	}
	switch {
	case fs.NArg() != 0:
		return o, usageError("pod: unexpected arguments " + strings.Join(fs.Args(), " "))
	case o.rootfs == "" || o.specFile == "":
		return o, usageError("pod: --rootfs and --runtime-spec are required")
	case o.oomMB < 0 || o.lines < 0 || o.interval <= 0 || o.deadline <= 0 || o.hold < 0:
		return o, usageError("pod: --oom-mb, --lines and --hold must be >= 0, --monitor-interval and --deadline > 0")
	}
	if o.sandboxID == "" {
		o.sandboxID = randomID()
	}
	if o.workloadID == "" {
		o.workloadID = randomID()
	}
	if len(o.dns) == 0 {
		o.dns = stringList{"search default.svc.cluster.local svc.cluster.local cluster.local", "nameserver 10.96.0.10", "options ndots:5"}
	}
	return o, nil
}

// guestSharedDir is where the runtime mounts the directory it shares with the guest.
const guestSharedDir = "/run/kata-containers/shared/containers/"

// sharedStorages is the shared directory's storage as the Go runtime sends it in CreateSandbox
// for virtio-9p: driver and type 9p, the tag as source, its mount options and msize.
func sharedStorages(tag string) []*pb.Storage {
	if tag == "" {
		return nil
	}
	return []*pb.Storage{{
		Driver:     "9p",
		Source:     tag,
		Fstype:     "9p",
		MountPoint: guestSharedDir,
		Options:    []string{"trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=8192"},
	}}
}

func randomID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func (s *pod) sinceStart(t time.Time) float64 {
	return round(float64(t.Sub(s.start))/float64(time.Millisecond), 1)
}

func (s *pod) logf(format string, a ...interface{}) {
	if s.o.progressLog {
		fmt.Fprintf(os.Stderr, "pod %8.1fms  %s\n", s.sinceStart(time.Now()), fmt.Sprintf(format, a...))
	}
}

func (s *pod) fail(format string, a ...interface{}) {
	msg := fmt.Sprintf(format, a...)
	s.mu.Lock()
	s.rep.Failures = append(s.rep.Failures, msg)
	s.mu.Unlock()
	s.logf("FAIL %s", msg)
}

// step performs one call with the runtime's deadline for it (0: none) and
// records it. An error fails the scenario unless tolerated.
func (s *pod) step(name string, deadline time.Duration, tolerated bool, call func(ctx context.Context) error) (stepRecord, error) {
	ctx, cancel := s.ctx, context.CancelFunc(func() {})
	if deadline > 0 {
		ctx, cancel = context.WithTimeout(s.ctx, deadline)
	}
	start := time.Now()
	err := call(ctx)
	cancel()
	rec := stepRecord{Step: name, AtMs: s.sinceStart(start), Ms: round(float64(time.Since(start))/float64(time.Millisecond), 3), OK: err == nil}
	if err != nil {
		body, _ := describe(err)
		rec.Error = &body
		rec.Tolerated = tolerated
		s.mu.Lock()
		s.rep.Errors[name] = body
		s.mu.Unlock()
		if !tolerated {
			s.fail("%s: %s: %s", name, body.Code, body.Message)
		}
	}
	s.mu.Lock()
	s.rep.Steps = append(s.rep.Steps, rec)
	s.mu.Unlock()
	s.logf("%-40s %8.1fms %s", name, rec.Ms, errText(err))
	return rec, err
}

// setStatus puts a WaitProcess status on the step just recorded.
func (s *pod) setStatus(st *int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st != nil && len(s.rep.Steps) > 0 {
		s.rep.Steps[len(s.rep.Steps)-1].Status = st
	}
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return "error: " + err.Error()
}

func (s *pod) run(base *pb.Spec) {
	a := s.p.agent
	sid, wid := s.o.sandboxID, s.o.workloadID

	// 1. Readiness probe, then the monitor.
	if _, err := s.step("Health.Check", checkDeadline, false, func(ctx context.Context) error {
		_, err := s.p.health.Check(ctx, &pb.CheckRequest{})
		return err
	}); err != nil {
		return
	}
	s.monitorStop, s.monitorDone = make(chan struct{}), make(chan struct{})
	go s.monitor()
	defer s.stopMonitor()

	// 2. The sandbox.
	hostname := s.o.hostname
	if hostname == "" {
		hostname = base.Hostname
	}
	if len(hostname) > 64 {
		hostname = hostname[:64]
	}
	if _, err := s.step("CreateSandbox", callDeadline, false, func(ctx context.Context) error {
		_, err := a.CreateSandbox(ctx, &pb.CreateSandboxRequest{Hostname: hostname, Dns: s.o.dns, SandboxId: sid, Storages: sharedStorages(s.o.share9p)})
		return err
	}); err != nil {
		return
	}
	var created []string
	defer func() { s.teardown(created) }()
	if _, err := s.step("GetGuestDetails", callDeadline, false, func(ctx context.Context) error {
		r, err := a.GetGuestDetails(ctx, &pb.GuestDetailsRequest{MemBlockSize: true, MemHotplugProbe: true})
		if err == nil {
			s.rep.GuestDetails, _ = toJSON(r)
		}
		return err
	}); err != nil {
		return
	}

	// 3. The OOM watcher (started with the sandbox container in the runtime; before it here).
	s.oomDone = make(chan struct{})
	go s.oomWatcher()

	// 4. The pause container.
	pause := containerSpec(base, s.o.rootfs, []string{"sleep", "1000000"}, 0)
	constrainForAgent(pause)
	if _, err := s.step("pause.CreateContainer", createDeadline, false, func(ctx context.Context) error {
		_, err := a.CreateContainer(ctx, &pb.CreateContainerRequest{ContainerId: sid, ExecId: sid, OCI: pause})
		return err
	}); err != nil {
		return
	}
	created = append(created, sid)
	if _, err := s.step("pause.StartContainer", callDeadline, false, func(ctx context.Context) error {
		_, err := a.StartContainer(ctx, &pb.StartContainerRequest{ContainerId: sid})
		return err
	}); err != nil {
		return
	}
	s.step("OnlineCPUMem", callDeadline, true, func(ctx context.Context) error {
		_, err := a.OnlineCPUMem(ctx, &pb.OnlineCPUMemRequest{NbCpus: 0, CpuOnly: false})
		return err
	})

	// 5. The workload.
	args := s.workloadArgs()
	s.rep.Workload = args
	work := containerSpec(base, s.o.rootfs, args, s.o.oomMB)
	constrainForAgent(work)
	// A Kubernetes container's spec names the pause container's pid namespace;
	// the runtime turns that path into sandbox_pidns.
	s.rep.SandboxPidns = true
	if _, err := s.step("workload.CreateContainer", createDeadline, false, func(ctx context.Context) error {
		_, err := a.CreateContainer(ctx, &pb.CreateContainerRequest{ContainerId: wid, ExecId: wid, OCI: work, SandboxPidns: true})
		return err
	}); err != nil {
		return
	}
	created = append(created, wid)
	if _, err := s.step("workload.StartContainer", callDeadline, false, func(ctx context.Context) error {
		_, err := a.StartContainer(ctx, &pb.StartContainerRequest{ContainerId: wid})
		return err
	}); err != nil {
		return
	}

	// iostream.go: one goroutine per stream, 32 KiB reads until an empty reply, no deadline.
	var wg sync.WaitGroup
	var stdout, stderr bytes.Buffer
	wg.Add(2)
	go func() { defer wg.Done(); s.readStream("ReadStdout", a.ReadStdout, wid, &stdout, &s.rep.Stdout) }()
	go func() { defer wg.Done(); s.readStream("ReadStderr", a.ReadStderr, wid, &stderr, &s.rep.Stderr) }()
	wg.Wait()
	want := s.o.lines
	if s.o.oomMB > 0 {
		want = 0
	}
	checkLines(&s.rep.Stdout, stdout.String(), "out-", want)
	checkLines(&s.rep.Stderr, stderr.String(), "err-", want)

	// The waiter: only after every stream reached EOF (or failed).
	var st *int32
	s.step("workload.WaitProcess", noDeadline, false, func(ctx context.Context) error {
		r, err := a.WaitProcess(ctx, &pb.WaitProcessRequest{ContainerId: wid, ExecId: wid})
		if err == nil {
			st = &r.Status
		}
		return err
	})
	s.setStatus(st)
	s.rep.ExitStatus = st
	if s.o.oomMB > 0 {
		s.awaitOOM(wid)
	}
}

func (s *pod) workloadArgs() []string {
	script := fmt.Sprintf("for i in $(seq 1 %d); do echo out-$i; echo err-$i >&2; done; exit %d", s.o.lines, workloadStatus)
	if s.o.oomMB > 0 {
		// Doubles a shell string until the memory cgroup's OOM killer ends the shell.
		script = "s=a; while :; do s=$s$s; done"
	}
	if s.o.hold > 0 {
		script = "sleep " + strconv.FormatFloat(s.o.hold.Seconds(), 'f', -1, 64) + "; " + script
	}
	return []string{"sh", "-c", script}
}

// containerSpec is a fresh copy of the converted runtime spec for one
// container: its command, the rootfs (the runtime rewrites root.path to the
// guest's rootfs path likewise), no terminal (stdio pipes are read), and for
// --oom-mb a memory limit without extra swap.
func containerSpec(base *pb.Spec, rootfs string, args []string, memMB int) *pb.Spec {
	s := proto.Clone(base).(*pb.Spec)
	s.Process.Args = args
	s.Process.Terminal = false
	s.Root = &pb.Root{Path: rootfs, Readonly: base.Root != nil && base.Root.Readonly}
	if memMB > 0 {
		if s.Linux.Resources == nil {
			s.Linux.Resources = &pb.LinuxResources{}
		}
		limit := int64(memMB) << 20
		s.Linux.Resources.Memory = &pb.LinuxMemory{Limit: limit, Swap: limit}
	}
	return s
}

func (s *pod) readStream(name string, read func(context.Context, *pb.ReadStreamRequest) (*pb.ReadStreamResponse, error), id string, buf *bytes.Buffer, rep *streamReport) {
	for {
		r, err := read(s.ctx, &pb.ReadStreamRequest{ContainerId: id, ExecId: id, Len: ioBufSize})
		if err != nil {
			body, _ := describe(err)
			rep.Error = &body
			s.mu.Lock()
			s.rep.Errors["workload."+name] = body
			s.mu.Unlock()
			s.fail("workload.%s after %d bytes: %s: %s", name, buf.Len(), body.Code, body.Message)
			return
		}
		if len(r.Data) == 0 {
			rep.EOF, rep.EOFAtMs = true, s.sinceStart(time.Now())
			s.logf("workload.%-31s EOF after %d bytes in %d reads", name, buf.Len(), rep.Reads)
			return
		}
		if len(r.Data) > ioBufSize {
			s.fail("workload.%s returned %d bytes for len %d", name, len(r.Data), ioBufSize)
		}
		rep.Reads++
		buf.Write(r.Data)
	}
}

func checkLines(rep *streamReport, data, prefix string, n int) {
	rep.Bytes, rep.Expected = len(data), n
	var lines []string
	if data != "" {
		lines = strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	}
	rep.Lines = len(lines)
	want := make([]string, n)
	count := map[string]int{}
	for i := range want {
		want[i] = prefix + strconv.Itoa(i+1)
		count[want[i]]++
	}
	for _, l := range lines {
		count[l]--
	}
	rep.Complete = len(lines) == n
	for _, c := range count {
		if c != 0 {
			rep.Complete = false
		}
	}
	rep.InOrder = len(lines) == n && (n == 0 || strings.HasSuffix(data, "\n"))
	for i := 0; i < len(lines) || i < n; i++ {
		got, exp := "<none>", "<none>"
		if i < len(lines) {
			got = lines[i]
		}
		if i < n {
			exp = want[i]
		}
		if got != exp {
			rep.InOrder = false
			rep.FirstMismatch = fmt.Sprintf("line %d: got %q, want %q", i+1, got, exp)
			break
		}
	}
}

func (s *pod) monitor() {
	defer close(s.monitorDone)
	t := time.NewTicker(s.o.interval)
	defer t.Stop()
	for seq := 0; ; seq++ {
		select {
		case <-s.monitorStop:
			return
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		before := s.calls.blocking()
		ctx, cancel := context.WithTimeout(s.ctx, checkDeadline)
		start := time.Now()
		_, err := s.p.health.Check(ctx, &pb.CheckRequest{})
		took := time.Since(start)
		cancel()
		after := s.calls.blocking()
		rec := checkRecord{Seq: seq, AtMs: s.sinceStart(start), Us: micros(took), OK: err == nil, BlockedBy: []string{}}
		for m := range before {
			if after[m] {
				rec.BlockedBy = append(rec.BlockedBy, m)
			}
		}
		sort.Strings(rec.BlockedBy)
		if err != nil {
			body, _ := describe(err)
			rec.Error = &body
			// The runtime marks the agent dead on any monitor failure.
			s.fail("monitor Health.Check #%d after %.1fms: %s: %s", seq, float64(took)/1e6, body.Code, body.Message)
		}
		s.mu.Lock()
		s.rep.Monitor.Samples = append(s.rep.Monitor.Samples, rec)
		s.mu.Unlock()
	}
}

func (s *pod) stopMonitor() {
	if s.monitorStop == nil {
		return
	}
	select {
	case <-s.monitorStop:
	default:
		close(s.monitorStop)
	}
	<-s.monitorDone
}

// oomWatcher is the runtime's watchOOMEvents: GetOOMEvent without a deadline
// in a loop; it stops on "ttrpc: closed" (or once the sandbox is being
// destroyed); other errors are logged and retried after 1 s.
func (s *pod) oomWatcher() {
	defer close(s.oomDone)
	for {
		ev, err := s.p.agent.GetOOMEvent(s.ctx, &pb.GetOOMEventRequest{})
		s.mu.Lock()
		s.rep.OOMWatcher.Calls++
		destroying := s.destroying
		if err == nil {
			s.rep.OOMEvents = append(s.rep.OOMEvents, oomRecord{ContainerID: ev.ContainerId, AtMs: s.sinceStart(time.Now())})
		}
		s.mu.Unlock()
		if err == nil {
			s.logf("GetOOMEvent: %s", ev.ContainerId)
			select {
			case s.oomSeen <- ev.ContainerId:
			default:
			}
			continue
		}
		stop := ""
		switch {
		case errors.Is(err, ttrpc.ErrClosed) || strings.Contains(err.Error(), "ttrpc: closed"):
			stop = "ttrpc: closed"
		case s.ctx.Err() != nil:
			stop = "scenario abandoned"
		case destroying:
			stop = "error after DestroySandbox: " + err.Error()
		}
		if stop != "" {
			s.mu.Lock()
			s.rep.OOMWatcher.StoppedBy = stop
			s.mu.Unlock()
			s.logf("OOM watcher stopped: %s", stop)
			return
		}
		body, _ := describe(err)
		s.mu.Lock()
		s.rep.OOMWatcher.Errors = append(s.rep.OOMWatcher.Errors, body)
		s.rep.Errors["GetOOMEvent"] = body
		s.mu.Unlock()
		s.logf("GetOOMEvent error (retrying in 1s): %v", err)
		select {
		case <-time.After(oomRetryPause):
		case <-s.ctx.Done():
		}
	}
}

func (s *pod) awaitOOM(id string) {
	s.mu.Lock()
	for _, e := range s.rep.OOMEvents {
		if e.ContainerID == id {
			s.mu.Unlock()
			return
		}
	}
	s.mu.Unlock()
	timer := time.NewTimer(s.o.oomWait)
	defer timer.Stop()
	for {
		select {
		case got := <-s.oomSeen:
			if got == id {
				return
			}
		case <-timer.C:
			return // judged in finish()
		case <-s.ctx.Done():
			return
		}
	}
}

// teardown is Container.stop for each created container (newest first), then
// DestroySandbox, as Sandbox.Stop does.
func (s *pod) teardown(created []string) {
	if s.ctx.Err() != nil {
		return
	}
	a := s.p.agent
	for i := len(created) - 1; i >= 0; i-- {
		id := created[i]
		who := "workload"
		if id == s.o.sandboxID {
			who = "pause"
		}
		s.step(who+".stop.SignalProcess", callDeadline, true, func(ctx context.Context) error {
			_, err := a.SignalProcess(ctx, &pb.SignalProcessRequest{ContainerId: id, ExecId: "", Signal: 9})
			return err
		})
		var st *int32
		s.step(who+".stop.WaitProcess", noDeadline, true, func(ctx context.Context) error {
			r, err := a.WaitProcess(ctx, &pb.WaitProcessRequest{ContainerId: id, ExecId: id})
			if err == nil {
				st = &r.Status
			}
			return err
		})
		s.setStatus(st)
		s.step(who+".stop.RemoveContainer", callDeadline, false, func(ctx context.Context) error {
			_, err := a.RemoveContainer(ctx, &pb.RemoveContainerRequest{ContainerId: id, Timeout: 0})
			return err
		})
		s.step(who+".stop.RemoveStaleVirtiofsShareMounts", callDeadline, false, func(ctx context.Context) error {
			_, err := a.RemoveStaleVirtiofsShareMounts(ctx, &pb.RemoveStaleVirtiofsShareMountsRequest{})
			return err
		})
	}
	// The monitor stops with the sandbox: the agent exits after DestroySandbox.
	s.stopMonitor()
	s.mu.Lock()
	s.destroying = true
	s.mu.Unlock()
	s.step("DestroySandbox", callDeadline, true, func(ctx context.Context) error {
		_, err := a.DestroySandbox(ctx, &pb.DestroySandboxRequest{})
		return err
	})
	if s.oomDone != nil {
		select {
		case <-s.oomDone:
		case <-time.After(watcherLinger):
			s.mu.Lock()
			s.rep.OOMWatcher.StoppedBy = fmt.Sprintf("still pending %s after DestroySandbox; connection closed", watcherLinger)
			s.mu.Unlock()
			s.p.client.Close()
			<-s.oomDone
		}
	}
}

func (s *pod) finish() {
	s.stopMonitor()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &s.rep
	r.Seconds = round(time.Since(s.start).Seconds(), 3)

	m := &r.Monitor
	m.IntervalMs = round(float64(s.o.interval)/float64(time.Millisecond), 1)
	if m.Samples == nil {
		m.Samples = []checkRecord{}
	}
	var all, blocked, io []float64
	for _, c := range m.Samples {
		if !c.OK {
			m.Failed++
			continue
		}
		all = append(all, c.Us)
		if len(c.BlockedBy) > 0 {
			blocked = append(blocked, c.Us)
		}
		for _, b := range c.BlockedBy {
			if b != "GetOOMEvent" {
				io = append(io, c.Us)
				break
			}
		}
	}
	m.Checks = len(m.Samples)
	m.All, m.WhileBlocking, m.WhileIO = stats(all), stats(blocked), stats(io)

	s.calls.mu.Lock()
	r.InFlight = inFlightReport{Peak: s.calls.peak, PeakMethods: s.calls.peakMethods, Total: s.calls.total}
	s.calls.mu.Unlock()

	switch {
	case r.ExitStatus == nil && len(r.Failures) == 0:
		r.Failures = append(r.Failures, "no exit status for the workload")
	case r.ExitStatus != nil && *r.ExitStatus != r.ExpectedStatus:
		r.Failures = append(r.Failures, fmt.Sprintf("workload exit status %d, want %d", *r.ExitStatus, r.ExpectedStatus))
	}
	if r.Mode == "output" && r.Stdout.EOF && r.Stderr.EOF {
		for _, st := range []struct {
			name string
			rep  streamReport
		}{{"stdout", r.Stdout}, {"stderr", r.Stderr}} {
			if !st.rep.Complete || !st.rep.InOrder {
				r.Failures = append(r.Failures, fmt.Sprintf("workload %s: %d of %d lines, complete=%v inOrder=%v %s",
					st.name, st.rep.Lines, st.rep.Expected, st.rep.Complete, st.rep.InOrder, st.rep.FirstMismatch))
			}
		}
	}
	if r.Mode == "oom" {
		found := false
		for _, e := range r.OOMEvents {
			found = found || e.ContainerID == s.o.workloadID
		}
		if !found {
			r.Failures = append(r.Failures, fmt.Sprintf("no OOM event for the workload %s (events: %v)", s.o.workloadID, r.OOMEvents))
		}
	}
	r.OK = len(r.Failures) == 0
}

func stats(us []float64) latencyStats {
	if len(us) == 0 {
		return latencyStats{}
	}
	sorted := append([]float64(nil), us...)
	sort.Float64s(sorted)
	return latencyStats{Checks: len(sorted), MaxUs: sorted[len(sorted)-1], P50Us: sorted[(len(sorted)-1)/2]}
}
