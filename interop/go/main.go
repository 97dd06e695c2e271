// Go net/http Hijacker servers for the interop matrix (standard library only).
//
//	hijack -port P -proto echo|docker -read bufio|conn
//
// With -proto echo, `Upgrade: echo` is answered with a 101 written on the
// hijacked connection, then every byte is echoed. With -proto docker it does
// what the Docker daemon does for an attach `POST` (moby's postContainersAttach:
// `_, upgrade := r.Header["Upgrade"]`): with any `Upgrade` header, whatever its
// token, `HTTP/1.1 101 UPGRADED`, `Content-Type: application/vnd.docker.raw-stream`
// and `Upgrade: tcp`; without one, `HTTP/1.1 200 OK` and the same content type
// (the older explicit hijack). Then every byte is echoed.
//
// With -read bufio the echo reads through the *bufio.Reader that Hijack returns
// ("The returned bufio.Reader may contain unprocessed buffered data from the
// client"): correct. With -read conn it reads the raw net.Conn and never looks
// at the bufio.Reader: the bug of moby/moby#30154.
//
// Like Docker's daemon, the handler never reads r.Body: what Go then hands over
// is recorded by the matrix, not hidden here. At the client's EOF the echo
// half-closes (CloseWrite), and the connection is closed once the client closes too.
package main

import (
	"bufio"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
)

func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// attach: Docker's `POST /containers/{id}/attach`.
func attach(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/attach")
}

type server struct {
	proto    string
	readConn bool
}

func (s server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	upgrade := hasToken(r.Header, "Connection", "upgrade")
	var answer string
	switch {
	case s.proto == "echo" && upgrade && hasToken(r.Header, "Upgrade", "echo"):
		answer = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"
	case s.proto == "docker" && attach(r) && len(r.Header.Values("Upgrade")) > 0:
		answer = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
	case s.proto == "docker" && attach(r):
		answer = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
	default:
		http.Error(w, "upgrade required", http.StatusUpgradeRequired)
		return
	}
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	if _, err := rw.WriteString(answer); err != nil {
		return
	}
	if err := rw.Flush(); err != nil {
		return
	}
	var src io.Reader = rw.Reader
	if s.readConn {
		src = conn
	}
	if _, err := io.Copy(conn, src); err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.CloseWrite()
	}
	// Wait for the client to close its side too (bounded by the client).
	io.Copy(io.Discard, bufio.NewReader(conn))
}

func main() {
	port := flag.Int("port", 18006, "loopback port")
	proto := flag.String("proto", "echo", "echo or docker")
	read := flag.String("read", "bufio", "bufio (correct) or conn (the bug)")
	flag.Parse()
	if (*proto != "echo" && *proto != "docker") || (*read != "bufio" && *read != "conn") {
		log.Fatal("usage: hijack -port P -proto echo|docker -read bufio|conn")
	}
	addr := "127.0.0.1:" + strconv.Itoa(*port)
	log.Fatal(http.ListenAndServe(addr, server{proto: *proto, readConn: *read == "conn"}))
}
