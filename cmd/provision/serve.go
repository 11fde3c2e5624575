package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/api"
	"github.com/provision/provision/images"
	"github.com/provision/provision/registry"
)

func newServe() *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the appliance",
		Long: `Run the appliance: the HTTP API (and, as they are added, DHCP, TFTP and DNS)
on one registry.

Configuration comes from the embedded defaults, then the YAML file given by
--config (keys: data, http, zone, dev, log_format), then flags. With --dev
everything listens on 127.0.0.1 on unprivileged ports and needs no root;
the data directory defaults to ./provision-data. At first start a random API
token is written to DATA/token (mode 0600); clients send it as
$PROVISION_TOKEN. SIGTERM or SIGINT shut the server down gracefully.`,
		Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := loadConfig(c.Flags())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg, newLogger(cfg.LogFormat))
		},
	}
	f := c.Flags()
	f.String("config", "", "YAML configuration file")
	f.String("data", "", "data directory: database, image store, API token (default /var/lib/provision, or ./provision-data with --dev)")
	f.String("http", "", "HTTP listen address (default :80, or 127.0.0.1:8080 with --dev)")
	f.String("zone", "", `DNS zone of the hosts; default hostnames are NAME.ZONE (default "internal")`)
	f.String("log-format", "", `log format, text or json (default "text")`)
	f.Bool("dev", false, "development mode: 127.0.0.1 only, unprivileged ports, no root needed")
	return c
}

func newLogger(format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return err
	}
	token, err := loadToken(cfg.Data)
	if err != nil {
		return fmt.Errorf("api token: %w", err)
	}
	store, err := registry.OpenSQLite(ctx, filepath.Join(cfg.Data, "registry.db"))
	if err != nil {
		return err
	}
	reg, err := registry.Open(ctx, store, cfg.Zone)
	if err != nil {
		store.Close()
		return err
	}
	defer reg.Close()
	blobs, err := images.NewStore(filepath.Join(cfg.Data, "images"))
	if err != nil {
		return err
	}
	handler := api.Handler(api.Config{Registry: reg, Blobs: blobs, Token: token, Log: log, Metrics: prometheus.NewRegistry()})
	ln, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return err
	}
	log.Info("listening", "proto", "http", "addr", ln.Addr().String(), "data", cfg.Data, "zone", cfg.Zone, "dev", cfg.Dev)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP(ctx, ln, handler) })
	err = g.Wait()
	log.Info("stopped", "err", err)
	return err
}

// serveHTTP serves until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
