// Command ferretdb runs FerretDB 1.24 (SQLite handler) for Keyward's tests.
// It prints the MongoDB URI on stdout once listening and stops on SIGTERM/SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on")
	dir := flag.String("dir", "", "data directory (default: a temp dir removed on exit)")
	flag.Parse()

	data := *dir
	if data == "" {
		tmp, err := os.MkdirTemp("", "keyward-ferretdb-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		data = tmp
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + data + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.Run(ctx); err != nil {
			log.Print(err)
		}
	}()

	fmt.Println(f.MongoDBURI())
	<-done
}
