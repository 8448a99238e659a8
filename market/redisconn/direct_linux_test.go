package redisconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/internal/testredis"
)

// directOptions are the options of a client of srv whose connections are directConns.
func directOptions(t *testing.T, srv *testredis.Server) *redis.Options {
	t.Helper()
	opt, err := Options(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	DirectIO(opt)
	if opt.Dialer == nil {
		t.Fatal("DirectIO set no dialer for a plain TCP connection")
	}
	return opt
}

// dial opens one connection with the options' dialer, as the client would.
func dial(t *testing.T, opt *redis.Options) net.Conn {
	t.Helper()
	c, err := opt.Dialer(context.Background(), "tcp", opt.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, ok := c.(*directConn); !ok {
		t.Fatalf("the dialer returned a %T, not a directConn", c)
	}
	return c
}

// A client on direct connections carries commands and values larger than a socket's
// buffers both ways, so that reads and writes wait on the poller midway.
func TestDirectIOCarriesCommands(t *testing.T) {
	srv := testredis.Start(t, testredis.WithPassword("pw"))
	rdb := redis.NewClient(directOptions(t, srv))
	defer rdb.Close()
	ctx := context.Background()

	big := bytes.Repeat([]byte("banana-"), 3<<20) // 21 MiB
	if err := rdb.Set(ctx, "big", big, 0).Err(); err != nil {
		t.Fatalf("SET of %d bytes: %v", len(big), err)
	}
	got, err := rdb.Get(ctx, "big").Bytes()
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	if !bytes.Equal(got, big) {
		t.Fatalf("GET returned %d bytes that differ from the %d written", len(got), len(big))
	}

	p := rdb.Pipeline()
	incr := make([]*redis.IntCmd, 1000)
	for i := range incr {
		incr[i] = p.Incr(ctx, "n")
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	for i, c := range incr {
		if c.Val() != int64(i+1) {
			t.Fatalf("INCR %d of the pipeline returned %d", i+1, c.Val())
		}
	}
}

// Reads and writes that find the socket empty or full wait on the poller and go on where
// they stopped: 21 MiB sent to a peer that waits before it echoes them back.
func TestDirectIOWaitsOnThePoller(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		peer, err := ln.Accept()
		if err != nil {
			return
		}
		defer peer.Close()
		time.Sleep(200 * time.Millisecond) // the writer fills the socket meanwhile
		_, _ = io.Copy(peer, peer)
	}()
	opt := &redis.Options{Addr: ln.Addr().String()}
	DirectIO(opt)
	c := dial(t, opt)
	sent := bytes.Repeat([]byte("monkey-"), 3<<20)
	wrote := make(chan error, 1)
	go func() {
		n, err := c.Write(sent)
		if err == nil && n != len(sent) {
			err = fmt.Errorf("wrote %d of %d bytes", n, len(sent))
		}
		if err == nil {
			err = c.(*directConn).CloseWrite()
		}
		wrote <- err
	}()
	if err := c.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(sent))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read the echo: %v", err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, sent) {
		t.Fatal("the echo differs from what was written")
	}
}

// A read with a deadline and nothing to read times out as net.Conn's does, and the
// connection works on once the deadline is lifted.
func TestDirectIODeadline(t *testing.T) {
	srv := testredis.Start(t)
	c := dial(t, directOptions(t, srv))
	start := time.Now()
	if err := c.SetReadDeadline(start.Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Read(make([]byte, 16))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("a read past its deadline returned %v, want a timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a read with a deadline 100 ms away returned after %v", took)
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if reply := command(t, c, "PING"); reply != "+PONG" {
		t.Fatalf("PING after the timeout: %q", reply)
	}
}

// When Redis closes the connection, a read says so with io.EOF.
func TestDirectIOPeerClose(t *testing.T) {
	srv := testredis.Start(t)
	c := dial(t, directOptions(t, srv))
	id := strings.TrimPrefix(command(t, c, "CLIENT ID"), ":")
	admin := srv.Client()
	defer admin.Close()
	if err := admin.Do(context.Background(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
		t.Fatalf("CLIENT KILL ID %s: %v", id, err)
	}
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(make([]byte, 16)); !errors.Is(err, io.EOF) {
		t.Fatalf("a read of a connection Redis closed returned %d bytes and %v, want io.EOF", n, err)
	}
}

// Connections DirectIO cannot make alike are left to go-redis.
func TestDirectIOLeavesOtherConnections(t *testing.T) {
	for name, opt := range map[string]*redis.Options{
		"TLS":         {Addr: "127.0.0.1:6379", TLSConfig: &tls.Config{}},
		"Unix socket": {Network: "unix", Addr: "/run/redis.sock"},
		"own dialer": {Addr: "127.0.0.1:6379", Dialer: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("own dialer")
		}},
	} {
		before := opt.Dialer
		DirectIO(opt)
		if (opt.Dialer == nil) != (before == nil) {
			t.Errorf("%s: DirectIO changed the dialer", name)
		}
		if before != nil {
			if _, err := opt.Dialer(context.Background(), "tcp", opt.Addr); err == nil || err.Error() != "own dialer" {
				t.Errorf("%s: DirectIO replaced the dialer", name)
			}
		}
	}
}

// command writes one inline command to c and reads its one-line reply.
func command(t *testing.T, c net.Conn, cmd string) string {
	t.Helper()
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		t.Fatalf("write %s: %v", cmd, err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read the reply to %s: %v", cmd, err)
	}
	return strings.TrimRight(line, "\r\n")
}
