// Command image writes the monkonomy container image as a tarball without a Docker engine:
// an empty base, a layer with /etc/passwd and /etc/group for the non-root user 65532 and the
// CA certificates of the machine that builds it (for rediss:// servers), and a layer with
// the static binary at /monkonomy. It is the image the Dockerfile builds, for machines
// where no Docker engine runs. The tarball loads with `docker load`,
// `kind load image-archive` and `ctr -n k8s.io images import`.
//
//	go run ./hack/image --binary dist/image/monkonomy --tag ghcr.io/monkonomy/monkonomy:dev --output dist/monkonomy-image.tar
package main

import (
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/monkonomy/monkonomy/hack/internal/ocitar"
)

// nonRoot is the user the image runs as, the same uid and gid as distroless's "nonroot".
const nonRoot = 65532

func main() {
	var (
		opts Options
		tags ocitar.ListFlag
		out  string
	)
	flag.StringVar(&opts.Binary, "binary", "", "the static monkonomy binary (CGO_ENABLED=0, GOOS=linux)")
	flag.Var(&tags, "tag", "image reference to tag the image with (repeatable; default ghcr.io/monkonomy/monkonomy:dev)")
	flag.StringVar(&out, "output", "dist/monkonomy-image.tar", "tarball to write")
	flag.StringVar(&opts.Version, "version", "dev", "version label")
	flag.StringVar(&opts.Revision, "revision", "unknown", "source revision label (git commit)")
	flag.StringVar(&opts.Arch, "arch", runtime.GOARCH, "architecture of the binary")
	flag.StringVar(&opts.CACerts, "ca-certs", "", "bundle of CA certificates (PEM) to put at /etc/ssl/certs/ca-certificates.crt (default: this machine's, where Go finds it on Linux, macOS and BSD)")
	flag.Parse()
	if opts.Binary == "" {
		fmt.Fprintln(os.Stderr, "image: --binary is required: build it with `make image` or CGO_ENABLED=0 GOOS=linux go build -o dist/image/monkonomy ./cmd/monkonomy")
		os.Exit(2)
	}
	if len(tags) == 0 {
		tags = ocitar.ListFlag{"ghcr.io/monkonomy/monkonomy:dev"}
	}
	if err := run(opts, tags, out); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(opts Options, tags []string, out string) error {
	img, err := Build(opts)
	if err != nil {
		return err
	}
	digest, err := ocitar.Write(img, tags, out)
	if err != nil {
		return err
	}
	fmt.Printf("Wrote %s (%s, %s)\n", out, strings.Join(tags, ", "), digest)
	return nil
}

// Options say what goes into the image.
type Options struct {
	Binary   string
	Version  string
	Revision string
	Arch     string
	CACerts  string // PEM bundle of CA certificates; empty: the machine's (caBundles)
}

// caBundles are where systems keep their bundle of CA certificates, the files Go's
// crypto/x509 reads on Linux and the BSDs: Debian and Ubuntu, Fedora and RHEL, openSUSE,
// OpenELEC, CentOS, Alpine (also OpenBSD's and macOS's), FreeBSD, DragonFly and NetBSD.
var caBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
	"/usr/local/etc/ssl/cert.pem",
	"/usr/local/share/certs/ca-root-nss.crt",
	"/etc/openssl/certs/ca-certificates.crt",
}

// readCABundle reads the bundle at path, or the machine's when path is empty.
func readCABundle(path string) ([]byte, string, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		return b, path, err
	}
	for _, p := range caBundles {
		if b, err := os.ReadFile(p); err == nil {
			return b, p, nil
		}
	}
	return nil, "", fmt.Errorf("none of %s exists", strings.Join(caBundles, ", "))
}

// Build assembles the image. Every timestamp is the Unix epoch, so that the same binary and
// CA bundle give the same image digest.
func Build(opts Options) (v1.Image, error) {
	bin, err := os.ReadFile(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("read the binary: %w", err)
	}
	// Without them, a trader or an engine could not check the certificate of a Redis
	// reached with rediss://, as the Dockerfile's distroless base can.
	certs, from, err := readCABundle(opts.CACerts)
	if err != nil {
		return nil, fmt.Errorf("read the CA certificates: %w (install the system's CA certificates, e.g. Debian's ca-certificates, or give a bundle with --ca-certs)", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(certs) {
		return nil, fmt.Errorf("%s holds no PEM certificate: give a CA bundle with --ca-certs", from)
	}
	users, err := ocitar.Layer([]ocitar.Entry{
		{Name: "etc/", Dir: true},
		{Name: "etc/passwd", Mode: 0o644, Data: []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonRoot, nonRoot))},
		{Name: "etc/group", Mode: 0o644, Data: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", nonRoot))},
		{Name: "etc/ssl/", Dir: true},
		{Name: "etc/ssl/certs/", Dir: true},
		{Name: "etc/ssl/certs/ca-certificates.crt", Mode: 0o644, Data: certs},
		{Name: "home/", Dir: true},
		{Name: "home/nonroot/", Dir: true, UID: nonRoot},
		// A writable /tmp for tools that want one, when the root file system is not
		// read-only.
		{Name: "tmp/", Dir: true, Mode: 0o1777},
	})
	if err != nil {
		return nil, fmt.Errorf("users layer: %w", err)
	}
	binary, err := ocitar.Layer([]ocitar.Entry{{Name: "monkonomy", Mode: 0o755, Data: bin}})
	if err != nil {
		return nil, fmt.Errorf("binary layer: %w", err)
	}
	return ocitar.Image(opts.Arch, []v1.Layer{users, binary}, func(c *v1.Config) {
		c.Entrypoint = []string{"/monkonomy"}
		c.User = fmt.Sprintf("%d:%d", nonRoot, nonRoot)
		c.WorkingDir = "/home/nonroot"
		c.Env = []string{"PATH=/", "HOME=/home/nonroot"}
		c.Labels = map[string]string{
			"org.opencontainers.image.title":       "monkonomy",
			"org.opencontainers.image.description": "Monkonomy: a live trading tournament on the banana market (operator, engine, traders, dashboard)",
			"org.opencontainers.image.source":      "https://github.com/monkonomy/monkonomy",
			"org.opencontainers.image.url":         "https://github.com/monkonomy/monkonomy",
			"org.opencontainers.image.licenses":    "Apache-2.0",
			"org.opencontainers.image.version":     opts.Version,
			"org.opencontainers.image.revision":    opts.Revision,
		}
	})
}
