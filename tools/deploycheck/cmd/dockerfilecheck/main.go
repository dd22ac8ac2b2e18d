// Command dockerfilecheck lints a Dockerfile with BuildKit's own frontend (the rules behind
// `docker build --check`) and prints its stages and instructions as JSON, so tests can check
// the image's shape without a Docker engine.
//
//	dockerfilecheck [-build-arg NAME=VALUE]... Dockerfile
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	digest "github.com/opencontainers/go-digest"
)

// offlineResolver stands in for the registry: no image is fetched (this check runs without
// network); every base image is taken as a Linux image whose environment sets PATH, as the
// official python images do.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := `{"architecture":"amd64","os":"linux",` +
		`"config":{"Env":["PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"]},` +
		`"rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}`
	return ref, "", []byte(cfg), nil
}

type buildArgs map[string]string

func (b buildArgs) String() string { return fmt.Sprint(map[string]string(b)) }
func (b buildArgs) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want NAME=VALUE, got %q", v)
	}
	b[name] = value
	return nil
}

type command struct {
	Instruction string   `json:"instruction"`
	Original    string   `json:"original"`
	Args        []string `json:"args,omitempty"`
	From        string   `json:"from,omitempty"`
	Chown       string   `json:"chown,omitempty"`
	Line        int      `json:"line"`
}

type stage struct {
	Name     string    `json:"name"`
	Base     string    `json:"base"`
	Commands []command `json:"commands"`
}

type warning struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Line    int    `json:"line"`
}

type report struct {
	MetaArgs []string  `json:"meta_args"`
	Stages   []stage   `json:"stages"`
	Warnings []warning `json:"warnings"`
	Error    string    `json:"error,omitempty"`
}

func line(locs []parser.Range) int {
	if len(locs) == 0 {
		return 0
	}
	return locs[0].Start.Line
}

func main() {
	args := buildArgs{}
	flag.Var(args, "build-arg", "NAME=VALUE, as docker build --build-arg (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: dockerfilecheck [-build-arg NAME=VALUE]... Dockerfile")
		os.Exit(2)
	}
	dt, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	rep := report{Warnings: []warning{}}

	// The linter of `docker build --check`, every stage, the build args given.
	opt := dockerfile2llb.ConvertOpt{}
	opt.BuildArgs = args
	opt.SourceMap = llb.NewSourceMap(nil, flag.Arg(0), "Dockerfile", dt)
	opt.SourceMap.Definition = &llb.Definition{}
	opt.MetaResolver = offlineResolver{}
	results, err := dockerfile2llb.DockerfileLint(context.Background(), dt, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, w := range results.Warnings {
		ln := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			ln = int(w.Location.Ranges[0].Start.Line)
		}
		rep.Warnings = append(rep.Warnings, warning{Rule: w.RuleName, Message: w.Detail, Line: ln})
	}
	if results.Error != nil {
		rep.Error = results.Error.Message
	}

	// The plain structure, for the project's own rules.
	res, err := parser.Parse(strings.NewReader(string(dt)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lint := linter.New(&linter.Config{})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, m := range metaArgs {
		for _, kv := range m.Args {
			rep.MetaArgs = append(rep.MetaArgs, kv.Key)
		}
	}
	for _, s := range stages {
		st := stage{Name: s.Name, Base: s.BaseName, Commands: []command{}}
		for _, c := range s.Commands {
			cmd := command{
				Instruction: strings.ToUpper(c.Name()),
				Original:    fmt.Sprint(c),
				Line:        line(c.Location()),
			}
			switch v := c.(type) {
			case *instructions.CopyCommand:
				cmd.From = v.From
				cmd.Chown = v.Chown
				cmd.Args = append(append([]string{}, v.SourcePaths...), v.DestPath)
			case *instructions.RunCommand:
				cmd.Args = v.CmdLine
			case *instructions.UserCommand:
				cmd.Args = []string{v.User}
			case *instructions.HealthCheckCommand:
				cmd.Args = v.Health.Test
			case *instructions.CmdCommand:
				cmd.Args = v.CmdLine
			case *instructions.EntrypointCommand:
				cmd.Args = v.CmdLine
			case *instructions.ArgCommand:
				for _, kv := range v.Args {
					cmd.Args = append(cmd.Args, kv.Key)
				}
			case *instructions.EnvCommand:
				for _, kv := range v.Env {
					cmd.Args = append(cmd.Args, kv.Key+"="+kv.Value)
				}
			case *instructions.ExposeCommand:
				cmd.Args = v.Ports
			}
			st.Commands = append(st.Commands, cmd)
		}
		rep.Stages = append(rep.Stages, st)
	}
	out, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Println(string(out))
}
