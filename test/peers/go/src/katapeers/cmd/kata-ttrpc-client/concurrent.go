package main

import (
	"context"
	"encoding/json"
	"flag"
	"io/ioutil"
	"time"

	pb "github.com/kata-containers/kata-containers/src/runtime/virtcontainers/pkg/agent/protocols/grpc"
)

type checkSample struct {
	Seq int     `json:"seq"`
	Us  float64 `json:"us"`
	OK  bool    `json:"ok"`
	// BlockingPending is whether the blocking call was still unanswered when this Check returned.
	BlockingPending bool       `json:"blockingPending"`
	Error           *errorBody `json:"error,omitempty"`
}

type blockingReport struct {
	Service  string          `json:"service"`
	Method   string          `json:"method"`
	Pending  bool            `json:"pending"` // still unanswered when the command ended
	Ms       float64         `json:"ms,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
	Error    *errorBody      `json:"error,omitempty"`
}

type concurrentResult struct {
	Blocking blockingReport `json:"blocking"`
	Checks   []checkSample  `json:"checks"`
	// AllChecksOK and BlockingPendingThroughout together prove that a pending
	// call did not hold back the others on the same connection.
	AllChecksOK               bool `json:"allChecksOk"`
	BlockingPendingThroughout bool `json:"blockingPendingThroughout"`
	// Error is the first failed Check's error (the exit code is then 1).
	Error *errorBody `json:"error,omitempty"`
}

type callOutcome struct {
	resp interface{}
	err  error
	took time.Duration
}

// runConcurrent reproduces what the Kata runtime does on its single
// connection: a blocking call (ReadStdout, WaitProcess, GetOOMEvent) stays in
// flight while Health.Check runs periodically. A server that handles one
// request per connection at a time fails every Check here.
func runConcurrent(ctx context.Context, p *peer, args []string) (interface{}, error) {
	fs := flag.NewFlagSet("concurrent", flag.ContinueOnError)
	fs.SetOutput(ioutil.Discard)
	service := fs.String("blocking-service", "grpc.AgentService", "service of the blocking call")
	name := fs.String("blocking-method", "", "method of the blocking call, e.g. ReadStdout (required)")
	reqJSON := fs.String("blocking-request", "{}", "request JSON of the blocking call")
	checks := fs.Int("checks", 5, "number of Health.Check calls")
	interval := fs.Duration("interval", 200*time.Millisecond, "pause before each Check")
	checkTimeout := fs.Duration("check-timeout", 2*time.Second, "deadline of each Check, so a stuck server fails instead of hanging")
	wait := fs.Duration("blocking-wait", 0, "after the Checks, wait up to this long for the blocking call to finish")
	if err := fs.Parse(args); err != nil {
		return nil, usageError("concurrent: " + err.Error())
	}
	if *name == "" || *checks <= 0 {
		return nil, usageError("concurrent: --blocking-method is required and --checks must be > 0")
	}
	req, resp, err := newCall(*service, *name, *reqJSON)
	if err != nil {
		return nil, err
	}

	// Like the runtime, the blocking call has no deadline; it is abandoned
	// (connection closed) when the command ends.
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan callOutcome, 1)
	started := time.Now()
	go func() {
		r, err := p.invoke(bctx, *service, *name, req, resp)
		done <- callOutcome{r, err, time.Since(started)}
	}()
	var outcome *callOutcome
	pending := func() bool {
		if outcome == nil {
			select {
			case o := <-done:
				outcome = &o
			default:
			}
		}
		return outcome == nil
	}

	res := concurrentResult{AllChecksOK: true, BlockingPendingThroughout: true}
	for i := 0; i < *checks; i++ {
		time.Sleep(*interval)
		cctx, ccancel := context.WithTimeout(ctx, *checkTimeout)
		start := time.Now()
		_, err := p.health.Check(cctx, &pb.CheckRequest{})
		took := time.Since(start)
		ccancel()
		s := checkSample{Seq: i, Us: micros(took), OK: err == nil, BlockingPending: pending()}
		if err != nil {
			body, _ := describe(err)
			s.Error = &body
			if res.AllChecksOK {
				res.Error = &body
			}
			res.AllChecksOK = false
		}
		res.BlockingPendingThroughout = res.BlockingPendingThroughout && s.BlockingPending
		res.Checks = append(res.Checks, s)
	}

	if pending() && *wait > 0 {
		select {
		case o := <-done:
			outcome = &o
		case <-time.After(*wait):
		}
	}
	res.Blocking = blockingReport{Service: *service, Method: *name, Pending: outcome == nil}
	if outcome != nil {
		res.Blocking.Ms = round(float64(outcome.took)/float64(time.Millisecond), 3)
		if outcome.err != nil {
			body, _ := describe(outcome.err)
			res.Blocking.Error = &body
		} else if res.Blocking.Response, err = toJSON(outcome.resp); err != nil {
			return nil, err
		}
	}
	if !res.AllChecksOK {
		// Still print the report; the exit code says a Check failed.
		return nil, reportError{res}
	}
	return res, nil
}

// reportError makes run() print a full report but exit with exitRPCError.
type reportError struct{ report interface{} }

func (reportError) Error() string { return "some calls failed" }
