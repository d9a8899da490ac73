package main

import (
	"fmt"
	"io"
	"strings"
)

// printError writes err to w, one line per problem, each starting with
// "idgate: ". A configuration error holds one problem per line, each
// naming its key ("config: issuers[0].audiences: required"); the "config: "
// of each is dropped, the key already says where, so the operator reads
// "idgate: issuers[0].audiences: required".
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintln(w, "idgate: "+strings.TrimPrefix(line, "config: "))
	}
}
