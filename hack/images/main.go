// Command images writes a container image made of files from this machine as a tarball
// that `ctr -n k8s.io images import`, `docker load` and `kind load image-archive` take,
// without a Docker engine or a registry. The local cluster and the end-to-end tests use
// it for the pod sandbox image, a Redis image made of Debian's redis-server and the
// shared libraries it links, and the test team's trader image (hack/images/build.sh).
//
//	go run ./hack/images --tag localhost/monkonomy/pause:1 --output bin/images/pause.tar \
//	    --file bin/images/pause=/pause --entrypoint /pause --user 65535
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Spec says what goes into an image.
type Spec struct {
	// Files maps a path in the image to a file on this machine; symbolic links are
	// followed, so a library's real content lands under the name the loader looks for.
	Files map[string]string
	// Dirs are empty directories anyone may write to (/tmp, /data).
	Dirs       []string
	Entrypoint []string
	Cmd        []string
	Env        []string
	User       string
}

func main() {
	var (
		tag, out, user   string
		files, dirs, env listFlag
		entry, cmd       listFlag
	)
	flag.StringVar(&tag, "tag", "", "image reference, e.g. localhost/monkonomy/pause:1")
	flag.StringVar(&out, "output", "", "tarball to write")
	flag.Var(&files, "file", "SRC=DST: put the file SRC of this machine at DST in the image (repeatable)")
	flag.Var(&dirs, "dir", "an empty directory writable by anyone, e.g. /tmp (repeatable)")
	flag.Var(&entry, "entrypoint", "one word of the entrypoint (repeatable)")
	flag.Var(&cmd, "cmd", "one word of the default arguments (repeatable)")
	flag.Var(&env, "env", "NAME=VALUE in the image's environment (repeatable)")
	flag.StringVar(&user, "user", "65532:65532", "uid:gid the image runs as")
	flag.Parse()
	if tag == "" || out == "" || len(files) == 0 {
		fmt.Fprintln(os.Stderr, "images: --tag, --output and at least one --file are required")
		os.Exit(2)
	}
	spec := Spec{Files: map[string]string{}, Dirs: dirs, Entrypoint: entry, Cmd: cmd, Env: env, User: user}
	for _, f := range files {
		src, dst, ok := strings.Cut(f, "=")
		if !ok || !path.IsAbs(dst) {
			fmt.Fprintf(os.Stderr, "images: --file %q is not SRC=/absolute/destination\n", f)
			os.Exit(2)
		}
		spec.Files[dst] = src
	}
	if err := write(spec, tag, out); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

func write(spec Spec, tag, out string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tag %q is not an image reference such as localhost/monkonomy/redis:7: %w", tag, err)
	}
	img, err := Build(spec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(path.Dir(out), 0o755); err != nil {
		return fmt.Errorf("create the folder of %s: %w", out, err)
	}
	if err := tarball.WriteToFile(out, ref, img); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Printf("Wrote %s (%s)\n", out, tag)
	return nil
}

// Build assembles a one-layer image on an empty base. Timestamps are the Unix epoch, so
// the same files give the same digest and containerd keeps its unpacked copy.
func Build(spec Spec) (v1.Image, error) {
	layer, err := layerOf(spec)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("append the layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read the image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = "amd64"
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config.Entrypoint = spec.Entrypoint
	cfg.Config.Cmd = spec.Cmd
	cfg.Config.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin"}, spec.Env...)
	cfg.Config.User = spec.User
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("set the image config: %w", err)
	}
	return img, nil
}

func layerOf(spec Spec) (v1.Layer, error) {
	dirs := map[string]int64{}
	addParents := func(p string) {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = 0o755
			}
		}
	}
	for dst := range spec.Files {
		addParents(dst)
	}
	for _, d := range spec.Dirs {
		addParents(d)
		dirs[path.Clean(d)] = 0o1777
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range sortedKeys(dirs) {
		h := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: dirs[d], ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", d, err)
		}
	}
	for _, dst := range sortedKeys(spec.Files) {
		src := spec.Files[dst]
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("read %s for %s: %w", src, dst, err)
		}
		st, err := os.Stat(src)
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", src, err)
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(dst, "/"), Mode: int64(st.Mode().Perm()), Size: int64(len(data)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", dst, err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", dst, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close the layer: %w", err)
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
