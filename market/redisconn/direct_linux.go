package redisconn

import (
	"context"
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"
)

// DirectIO makes the TCP connections of opt read and write with system calls the Go
// scheduler does not hear of, for a process of one P (GOMAXPROCS=1) whose goroutines
// mostly wait for Redis: the engine.
//
// A goroutine's read or write of a socket is an ordinary system call, and the runtime's
// monitor takes the P from a thread that stays in one for longer than its tick (20 µs) and
// wakes another thread to run it. With one P and nothing else to run, that is all cost: the
// monitor stays awake to do it, and each batch passes between threads. A loopback write
// that wakes Redis can take longer than that tick on a virtual machine. Go sets sockets
// non-blocking, so the calls below never wait in the kernel: when there is nothing to read
// or no room to write, the goroutine waits on the runtime's poller, as with net.Conn, and
// deadlines hold as they do there.
//
// Connections over TLS or a Unix socket, and options with a Dialer of their own, are left
// as they are.
func DirectIO(opt *redis.Options) {
	if opt.TLSConfig != nil || opt.Dialer != nil || (opt.Network != "" && opt.Network != "tcp") {
		return
	}
	d := &net.Dialer{Timeout: opt.DialTimeout, KeepAlive: 5 * time.Minute}
	if d.Timeout == 0 {
		d.Timeout = 5 * time.Second // go-redis's own default
	}
	opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc, ok := c.(*net.TCPConn)
		if !ok {
			return c, nil
		}
		raw, err := tc.SyscallConn()
		if err != nil {
			return c, nil
		}
		return &directConn{TCPConn: tc, raw: raw}, nil
	}
}

// directConn is a TCP connection whose Read and Write call read(2) and write(2) with
// syscall.RawSyscall, inside the runtime's poller (syscall.RawConn).
type directConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func (c *directConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var (
		n     int
		errno syscall.Errno
	)
	if err := c.raw.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch e {
			case syscall.EINTR:
				// Try again: the poller would not wake for data already there.
			case syscall.EAGAIN:
				return false // wait until the socket is readable
			default:
				n, errno = int(r), e
				return true
			}
		}
	}); err != nil {
		return 0, err // the poller's, a *net.OpError: a timeout says so
	}
	if errno != 0 {
		return 0, c.opError("read", errno)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *directConn) Write(b []byte) (int, error) {
	written := 0
	var errno syscall.Errno
	if err := c.raw.Write(func(fd uintptr) bool {
		for written < len(b) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[written])), uintptr(len(b)-written))
			switch e {
			case 0:
				written += int(r)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // wait until the socket has room
			default:
				errno = e
				return true
			}
		}
		return true
	}); err != nil {
		return written, err
	}
	if errno != 0 {
		return written, c.opError("write", errno)
	}
	return written, nil
}

// opError wraps the error number of a system call as net.Conn's own methods do.
func (c *directConn) opError(op string, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError(op, errno)}
}
