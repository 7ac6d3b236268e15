// Package netguardtest has what tests of outbound requests need: a loopback listener that counts
// the connections it accepts, to prove a refused target was never contacted.
package netguardtest

import (
	"net"
	"sync/atomic"
	"testing"
)

// Listener accepts connections on 127.0.0.1, counts them and closes them at once.
type Listener struct {
	net.Listener
	accepted atomic.Int64
}

// Listen starts a counting listener that stops when the test ends.
func Listen(t testing.TB) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{Listener: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.accepted.Add(1)
			c.Close()
		}
	}()
	return l
}

// Accepted is how many connections reached the listener.
func (l *Listener) Accepted() int64 { return l.accepted.Load() }

// Port is the listener's port.
func (l *Listener) Port() string {
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
