package main

import (
	"context"
	"flag"
	"io/ioutil"
	"math"
	"sort"
	"time"

	pb "github.com/kata-containers/kata-containers/src/runtime/virtcontainers/pkg/agent/protocols/grpc"
)

type benchResult struct {
	Calls       int     `json:"calls"`
	Seconds     float64 `json:"seconds"`
	CallsPerSec float64 `json:"callsPerSec"`
	P50us       float64 `json:"p50us"`
	P99us       float64 `json:"p99us"`
	Meanus      float64 `json:"meanus"`
}

// runBench measures latency, not throughput under load: calls are strictly
// sequential on one connection, like the runtime's health monitor.
func runBench(ctx context.Context, p *peer, args []string) (interface{}, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(ioutil.Discard)
	n := fs.Int("n", 20000, "measured calls")
	warmup := fs.Int("warmup", 200, "unmeasured calls first (connection set-up, JIT of a Node server)")
	if err := fs.Parse(args); err != nil {
		return nil, usageError("bench: " + err.Error())
	}
	if *n <= 0 || *warmup < 0 {
		return nil, usageError("bench: --n must be > 0 and --warmup >= 0")
	}

	check := func() (time.Duration, error) {
		cctx, cancel := p.callContext(ctx)
		defer cancel()
		start := time.Now()
		_, err := p.health.Check(cctx, &pb.CheckRequest{})
		return time.Since(start), err
	}
	for i := 0; i < *warmup; i++ {
		if _, err := check(); err != nil {
			return nil, err
		}
	}
	lat := make([]time.Duration, *n)
	start := time.Now()
	for i := range lat {
		d, err := check()
		if err != nil {
			return nil, err
		}
		lat[i] = d
	}
	total := time.Since(start)

	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	pct := func(q int) time.Duration { return lat[(len(lat)-1)*q/100] }
	return benchResult{
		Calls:       *n,
		Seconds:     round(total.Seconds(), 4),
		CallsPerSec: round(float64(*n)/total.Seconds(), 1),
		P50us:       micros(pct(50)),
		P99us:       micros(pct(99)),
		Meanus:      micros(sum / time.Duration(*n)),
	}, nil
}

func micros(d time.Duration) float64 { return round(float64(d)/float64(time.Microsecond), 1) }

func round(x float64, digits int) float64 {
	f := math.Pow(10, float64(digits))
	return math.Round(x*f) / f
}
