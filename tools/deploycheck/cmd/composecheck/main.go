// Command composecheck loads a Compose file with compose-go, the loader of `docker compose`
// itself: schema validation, interpolation from the given env files only (never the caller's
// environment), and the consistency checks (depends_on, networks, volumes, secrets). Any
// warning, such as a variable that is not set, is an error. It prints the resolved project as
// JSON.
//
//	composecheck -env-file .env.example docker-compose.yml
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/sirupsen/logrus"
)

type recorder struct{ messages []string }

func (r *recorder) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (r *recorder) Fire(e *logrus.Entry) error {
	r.messages = append(r.messages, e.Message)
	return nil
}

type envFiles []string

func (e *envFiles) String() string     { return fmt.Sprint(*e) }
func (e *envFiles) Set(v string) error { *e = append(*e, v); return nil }

func main() {
	var files envFiles
	flag.Var(&files, "env-file", "env file giving the variables (repeatable)")
	name := flag.String("project-name", "japangoodz", "compose project name")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: composecheck [-env-file FILE]... compose.yml...")
		os.Exit(2)
	}
	rec := &recorder{}
	logrus.AddHook(rec)
	logrus.SetOutput(os.Stderr)

	workdir, _ := filepath.Abs(filepath.Dir(flag.Arg(0)))
	opts, err := cli.NewProjectOptions(
		flag.Args(),
		cli.WithName(*name),
		cli.WithWorkingDirectory(workdir),
		cli.WithEnvFiles(files...),
		cli.WithDotEnv,
		cli.WithInterpolation(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(false),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "invalid compose file:", err)
		os.Exit(1)
	}
	if len(rec.messages) > 0 {
		for _, m := range rec.messages {
			fmt.Fprintln(os.Stderr, "compose warning:", m)
		}
		os.Exit(1)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
