// Package peeraddr turns the agent address URLs used by Kata (unix://, tcp://)
// into dialers and listeners, so both test peers accept the same forms as the agent.
package peeraddr

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
)

// Parse splits an address URL into a Go network and address.
//
//	unix:///run/agent.sock  -> unix, /run/agent.sock
//	unix://@kata-agent      -> unix, @kata-agent (abstract: Go swaps the '@' for the leading NUL)
//	tcp://127.0.0.1:1024    -> tcp,  127.0.0.1:1024
func Parse(addr string) (network, address string, err error) {
	switch {
	case strings.HasPrefix(addr, "unix://"):
		network, address = "unix", strings.TrimPrefix(addr, "unix://")
	case strings.HasPrefix(addr, "tcp://"):
		network, address = "tcp", strings.TrimPrefix(addr, "tcp://")
	default:
		return "", "", fmt.Errorf("unsupported address %q: want unix:///path, unix://@abstract or tcp://host:port", addr)
	}
	if address == "" || address == "@" {
		return "", "", fmt.Errorf("address %q has no path or host", addr)
	}
	return network, address, nil
}

// Dial connects to addr.
func Dial(ctx context.Context, addr string) (net.Conn, error) {
	network, address, err := Parse(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

// Listen listens on addr. A stale unix socket file left by a killed peer is
// removed first, because tests reuse socket paths.
func Listen(addr string) (net.Listener, error) {
	network, address, err := Parse(addr)
	if err != nil {
		return nil, err
	}
	if network == "unix" && !strings.HasPrefix(address, "@") {
		if fi, err := os.Lstat(address); err == nil && fi.Mode()&os.ModeSocket != 0 {
			_ = os.Remove(address)
		}
	}
	return net.Listen(network, address)
}
