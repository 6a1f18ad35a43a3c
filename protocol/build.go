package protocol

import (
	"runtime"
	"runtime/debug"
)

// CurrentBuild describes the running binary, for provenance.
func CurrentBuild() Build {
	b := Build{
		Module:    "unknown",
		Version:   "(devel)",
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Module = info.Main.Path
	if info.Main.Version != "" {
		b.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String renders the build as "version (revision, go version, platform)".
func (b Build) String() string {
	rev := b.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		rev = "no vcs"
	} else if b.Modified {
		rev += "+dirty"
	}
	return b.Version + " (" + rev + ", " + b.GoVersion + ", " + b.Platform + ")"
}
