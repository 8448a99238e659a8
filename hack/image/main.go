// Command image writes the monkonomy container image as a tarball without a Docker engine:
// an empty base, a layer with /etc/passwd and /etc/group for the non-root user 65532, and a
// layer with the static binary at /monkonomy. It is the image the Dockerfile builds, for
// machines where no Docker engine runs. The tarball loads with `docker load`,
// `kind load image-archive` and `ctr -n k8s.io images import`.
//
//	go run ./hack/image --binary dist/image/monkonomy --tag ghcr.io/monkonomy/monkonomy:dev --output dist/monkonomy-image.tar
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// nonRoot is the user the image runs as, the same uid and gid as distroless's "nonroot".
const nonRoot = 65532

type tagList []string

func (t *tagList) String() string     { return strings.Join(*t, ",") }
func (t *tagList) Set(v string) error { *t = append(*t, v); return nil }

func main() {
	var (
		opts Options
		tags tagList
		out  string
	)
	flag.StringVar(&opts.Binary, "binary", "", "the static monkonomy binary (CGO_ENABLED=0, GOOS=linux)")
	flag.Var(&tags, "tag", "image reference to tag the image with (repeatable; default ghcr.io/monkonomy/monkonomy:dev)")
	flag.StringVar(&out, "output", "dist/monkonomy-image.tar", "tarball to write")
	flag.StringVar(&opts.Version, "version", "dev", "version label")
	flag.StringVar(&opts.Revision, "revision", "unknown", "source revision label (git commit)")
	flag.StringVar(&opts.Arch, "arch", "amd64", "architecture of the binary")
	flag.Parse()
	if opts.Binary == "" {
		fmt.Fprintln(os.Stderr, "image: --binary is required: build it with `make image` or CGO_ENABLED=0 GOOS=linux go build -o dist/image/monkonomy ./cmd/monkonomy")
		os.Exit(2)
	}
	if len(tags) == 0 {
		tags = tagList{"ghcr.io/monkonomy/monkonomy:dev"}
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
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		ref, err := name.NewTag(t)
		if err != nil {
			return fmt.Errorf("tag %q is not an image reference such as ghcr.io/monkonomy/monkonomy:dev: %w", t, err)
		}
		refs[ref] = img
	}
	if err := tarball.MultiRefWriteToFile(out, refs); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("digest of the image: %w", err)
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
}

// Build assembles the image. Every timestamp is the Unix epoch, so that the same binary
// gives the same image digest.
func Build(opts Options) (v1.Image, error) {
	bin, err := os.ReadFile(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("read the binary: %w", err)
	}
	users, err := layerOf([]file{
		{name: "etc/", dir: true},
		{name: "etc/passwd", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonRoot, nonRoot))},
		{name: "etc/group", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", nonRoot))},
		{name: "home/", dir: true},
		{name: "home/nonroot/", dir: true, uid: nonRoot},
		// A writable /tmp for tools that want one, when the root file system is not
		// read-only.
		{name: "tmp/", dir: true, mode: 0o1777},
	})
	if err != nil {
		return nil, fmt.Errorf("users layer: %w", err)
	}
	binary, err := layerOf([]file{{name: "monkonomy", mode: 0o755, data: bin}})
	if err != nil {
		return nil, fmt.Errorf("binary layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, users, binary)
	if err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read the image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = opts.Arch
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config.Entrypoint = []string{"/monkonomy"}
	cfg.Config.User = fmt.Sprintf("%d:%d", nonRoot, nonRoot)
	cfg.Config.WorkingDir = "/home/nonroot"
	cfg.Config.Env = []string{"PATH=/", "HOME=/home/nonroot"}
	cfg.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "monkonomy",
		"org.opencontainers.image.description": "Monkonomy: a live trading tournament on the banana market (operator, engine, traders, dashboard)",
		"org.opencontainers.image.source":      "https://github.com/monkonomy/monkonomy",
		"org.opencontainers.image.url":         "https://github.com/monkonomy/monkonomy",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.version":     opts.Version,
		"org.opencontainers.image.revision":    opts.Revision,
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("set the image config: %w", err)
	}
	return img, nil
}

type file struct {
	name string
	dir  bool
	mode int64
	uid  int
	data []byte
}

func layerOf(files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Name:    f.name,
			Mode:    f.mode,
			Uid:     f.uid,
			Gid:     f.uid,
			ModTime: time.Unix(0, 0),
			Format:  tar.FormatPAX,
		}
		if f.dir {
			h.Typeflag = tar.TypeDir
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}
