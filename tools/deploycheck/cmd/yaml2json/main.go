// Command yaml2json prints the YAML documents of its files (or of stdin) as one JSON array, so
// the project's Python checks need no YAML library of their own.
//
//	kustomize build deploy/k8s/overlays/dev | yaml2json
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	yaml "go.yaml.in/yaml/v4"
)

func decodeAll(r io.Reader, docs []any) ([]any, error) {
	dec := yaml.NewDecoder(r)
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

func main() {
	docs := []any{}
	var err error
	if len(os.Args) < 2 {
		docs, err = decodeAll(os.Stdin, docs)
	} else {
		for _, name := range os.Args[1:] {
			f, openErr := os.Open(name)
			if openErr != nil {
				fmt.Fprintln(os.Stderr, openErr)
				os.Exit(1)
			}
			docs, err = decodeAll(f, docs)
			f.Close()
			if err != nil {
				err = fmt.Errorf("%s: %w", name, err)
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := json.Marshal(docs)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
