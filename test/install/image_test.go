package install

import (
	"archive/tar"
	"crypto/x509"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const imageTag = "ghcr.io/monkonomy/monkonomy:dev"

// TestImageTarballRunsMonkonomyAsNonRoot builds the image as `make image` does, opens the
// tarball as `docker load` would, and runs the binary found in its layers.
func TestImageTarballRunsMonkonomyAsNonRoot(t *testing.T) {
	out := filepath.Join(t.TempDir(), "monkonomy-image.tar")
	mustRun(t, "", filepath.Join(toolDir, "image"), "--binary", filepath.Join(toolDir, "monkonomy"),
		"--tag", imageTag, "--version", "install-test", "--revision", "0123abc", "--output", out)

	tag, err := name.NewTag(imageTag)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("the tarball has no image tagged %s: %v", imageTag, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Config.Entrypoint, []string{"/monkonomy"}) {
		t.Errorf("entrypoint %v, want [/monkonomy]", cfg.Config.Entrypoint)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("user %q, want the non-root 65532:65532", cfg.Config.User)
	}
	if cfg.OS != "linux" {
		t.Errorf("os %q, want linux", cfg.OS)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.title":    "monkonomy",
		"org.opencontainers.image.version":  "install-test",
		"org.opencontainers.image.revision": "0123abc",
		"org.opencontainers.image.source":   "https://github.com/monkonomy/monkonomy",
	} {
		if got := cfg.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}

	files := map[string][]byte{}
	modes := map[string]int64{}
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read the image's file system: %v", err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = b
			modes[h.Name] = h.Mode
		}
	}
	if !strings.Contains(string(files["etc/passwd"]), ":65532:65532:") {
		t.Errorf("/etc/passwd has no user 65532:\n%s", files["etc/passwd"])
	}
	// Go's TLS looks for the system's CA certificates here first: a rediss:// server's
	// certificate is checked against them.
	if certs := files["etc/ssl/certs/ca-certificates.crt"]; !x509.NewCertPool().AppendCertsFromPEM(certs) {
		t.Errorf("/etc/ssl/certs/ca-certificates.crt holds no CA certificate (%d bytes)", len(certs))
	}
	bin, ok := files["monkonomy"]
	if !ok || modes["monkonomy"]&0o111 == 0 {
		t.Fatalf("the image has no executable /monkonomy")
	}
	extracted := filepath.Join(t.TempDir(), "monkonomy")
	if err := os.WriteFile(extracted, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := mustRun(t, "", extracted, "version"); !strings.HasPrefix(got, "monkonomy install-test ") {
		t.Errorf("the image's binary says %q, want monkonomy install-test", got)
	}

	// docker load and ctr import find the tag in the tarball's manifest.json.
	manifest := readTarFile(t, out, "manifest.json")
	var entries []struct{ RepoTags []string }
	if err := json.Unmarshal(manifest, &entries); err != nil || len(entries) != 1 || !slices.Contains(entries[0].RepoTags, imageTag) {
		t.Errorf("manifest.json does not tag the image %s: %s", imageTag, manifest)
	}
}

// An image without CA certificates would build and run, and fail only when a trader meets
// a rediss:// server: the tool refuses to write one.
func TestImageWithoutCACertificatesIsRefused(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "empty.crt")
	if err := os.WriteFile(notPEM, []byte("no certificate here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "monkonomy-image.tar")
	for _, certs := range []string{notPEM, filepath.Join(t.TempDir(), "missing.crt")} {
		cmd := exec.Command(filepath.Join(toolDir, "image"), "--binary", filepath.Join(toolDir, "monkonomy"),
			"--ca-certs", certs, "--output", out)
		msg, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("image --ca-certs %s wrote an image, want a refusal", certs)
		}
		if !strings.Contains(string(msg), "--ca-certs") {
			t.Errorf("image --ca-certs %s says %q, want it to say how to give CA certificates", certs, msg)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("image --ca-certs %s left a tarball behind", certs)
		}
	}
}

// TestDockerfileBuildsTheSameImage keeps the Dockerfile, for machines with a Docker
// engine, in step with the tarball image: static binary, non-root user, same entrypoint.
func TestDockerfileBuildsTheSameImage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "USER 65532:65532", `ENTRYPOINT ["/monkonomy"]`, "COPY --from=build /out/monkonomy /monkonomy"} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %s", want)
		}
	}
}

func readTarFile(t *testing.T, path, name string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no %s: %v", path, name, err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}
