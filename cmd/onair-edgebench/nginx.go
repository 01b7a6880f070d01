package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// nginxConf is a minimal nginx configuration: no default site, no root
// paths, nothing logged per request, files sent with sendfile, the same
// headers as onair's origin. %[1]s is the directory, %[2]s the address.
const nginxConf = `daemon off;
worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/tmp/body;
  proxy_temp_path %[1]s/tmp/proxy;
  fastcgi_temp_path %[1]s/tmp/fastcgi;
  uwsgi_temp_path %[1]s/tmp/uwsgi;
  scgi_temp_path %[1]s/tmp/scgi;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 10000000;
  open_file_cache max=64 inactive=60s;
  types { video/mp4 m4s; application/vnd.apple.mpegurl m3u8; }
  server {
    listen %[2]s;
    root %[1]s/www;
    location ~ \.m4s$ { add_header Cache-Control "` + segmentCache + `"; }
    location ~ \.m3u8$ { add_header Cache-Control "` + playlistCache + `"; }
  }
}
`

// nginx is an nginx master process of the bench's own.
type nginx struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan error
}

// startNginx runs nginx from dir, serving dir/www on addr, and waits until it
// accepts connections.
func startNginx(dir, addr string) (*nginx, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, fmt.Errorf("nginx not found (scripts/bench-deps.sh installs it): %w", err)
	}

	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, err
	}

	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, addr), 0o644); err != nil {
		return nil, err
	}

	n := &nginx{done: make(chan error, 1)}
	n.cmd = exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	n.cmd.Stderr = &n.stderr
	// Its own process group, so that its workers can be ended with it.
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}

	go func() { n.done <- n.cmd.Wait() }()

	for range 100 {
		select {
		case err := <-n.done:
			return nil, fmt.Errorf("nginx exited: %v: %s", err, n.stderr.Bytes())
		default:
		}

		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()

			return n, nil
		}

		time.Sleep(50 * time.Millisecond)
	}

	n.stop()

	return nil, fmt.Errorf("nginx did not listen on %s", addr)
}

// stop ends nginx by its process id: SIGQUIT lets the workers finish; if the
// master lingers, SIGKILL goes to its process group, workers included.
func (n *nginx) stop() {
	n.cmd.Process.Signal(syscall.SIGQUIT)

	select {
	case <-n.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.done
	}
}
