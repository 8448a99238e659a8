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
	"flag"
	"fmt"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/monkonomy/monkonomy/hack/internal/ocitar"
)

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
		files, dirs, env ocitar.ListFlag
		entry, cmd       ocitar.ListFlag
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
	img, err := Build(spec)
	if err != nil {
		return err
	}
	if _, err := ocitar.Write(img, []string{tag}, out); err != nil {
		return err
	}
	fmt.Printf("Wrote %s (%s)\n", out, tag)
	return nil
}

// Build assembles a one-layer image for this machine's architecture on an empty base.
// Timestamps are the Unix epoch, so the same files give the same digest and containerd
// keeps its unpacked copy.
func Build(spec Spec) (v1.Image, error) {
	layer, err := layerOf(spec)
	if err != nil {
		return nil, err
	}
	return ocitar.Image(runtime.GOARCH, []v1.Layer{layer}, func(c *v1.Config) {
		c.Entrypoint = spec.Entrypoint
		c.Cmd = spec.Cmd
		c.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin"}, spec.Env...)
		c.User = spec.User
	})
}

// layerOf puts the directories first, parents before children, then the files.
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
	var entries []ocitar.Entry
	for _, d := range sortedKeys(dirs) {
		entries = append(entries, ocitar.Entry{Name: strings.TrimPrefix(d, "/") + "/", Dir: true, Mode: dirs[d]})
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
		entries = append(entries, ocitar.Entry{Name: strings.TrimPrefix(dst, "/"), Mode: int64(st.Mode().Perm()), Data: data})
	}
	return ocitar.Layer(entries)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
