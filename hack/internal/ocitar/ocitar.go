// Package ocitar builds reproducible container images from files and writes them as
// tarballs that `docker load`, `kind load image-archive` and `ctr images import` take,
// without a Docker engine or a registry.
package ocitar

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// epoch is every timestamp in the images, so that the same files give the same digest.
var epoch = time.Unix(0, 0).UTC()

// ListFlag is a repeatable command-line flag.
type ListFlag []string

func (l *ListFlag) String() string     { return strings.Join(*l, ",") }
func (l *ListFlag) Set(v string) error { *l = append(*l, v); return nil }

// Entry is a directory or a regular file of a layer.
type Entry struct {
	// Name is the path in the image, without a leading slash.
	Name string
	Dir  bool
	// Mode defaults to 0o755 for a directory.
	Mode int64
	// UID is also the entry's gid.
	UID  int
	Data []byte
}

// Layer returns an uncompressed layer of entries, in the order given.
func Layer(entries []Entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.Name,
			Mode:    e.Mode,
			Uid:     e.UID,
			Gid:     e.UID,
			ModTime: epoch,
			Format:  tar.FormatPAX,
		}
		if e.Dir {
			h.Typeflag = tar.TypeDir
			if !strings.HasSuffix(h.Name, "/") {
				h.Name += "/"
			}
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", e.Name, err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.Name, err)
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

// Image stacks layers on an empty linux base for arch and lets configure set the rest of
// the config (entrypoint, user, environment, labels). Its creation time is the epoch.
func Image(arch string, layers []v1.Layer, configure func(*v1.Config)) (v1.Image, error) {
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read the image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = arch
	cfg.Created = v1.Time{Time: epoch}
	configure(&cfg.Config)
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("set the image config: %w", err)
	}
	return img, nil
}

// Write writes img to the tarball out under every tag, creating out's folder, and returns
// the image's digest.
func Write(img v1.Image, tags []string, out string) (v1.Hash, error) {
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		ref, err := name.NewTag(t)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("tag %q is not an image reference such as localhost/monkonomy/redis:7: %w", t, err)
		}
		refs[ref] = img
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return v1.Hash{}, fmt.Errorf("create the folder of %s: %w", out, err)
	}
	if err := tarball.MultiRefWriteToFile(out, refs); err != nil {
		return v1.Hash{}, fmt.Errorf("write %s: %w", out, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("digest of the image: %w", err)
	}
	return digest, nil
}
