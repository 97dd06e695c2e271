# Varnish as an upgrade reverse proxy, configured the usual way
# (varnish-cache.org/docs/7.1/users-guide/vcl-example-websockets.html): a request
# with Upgrade goes to vcl_pipe, which copies Upgrade and Connection to the backend
# request; from then on Varnish copies bytes both ways. One listen socket per
# protocol the matrix sends through it (start: -a echo=..., websocket=..., docker=...).
vcl 4.1;

backend echo {
    .host = "127.0.0.1";
    .port = "18051";
}

backend websocket {
    .host = "127.0.0.1";
    .port = "18053";
}

backend docker {
    .host = "127.0.0.1";
    .port = "18055";
}

sub vcl_recv {
    if (local.socket == "websocket") {
        set req.backend_hint = websocket;
    } else if (local.socket == "docker") {
        set req.backend_hint = docker;
    } else {
        set req.backend_hint = echo;
    }
    if (req.http.upgrade) {
        return (pipe);
    }
}

sub vcl_pipe {
    if (req.http.upgrade) {
        set bereq.http.upgrade = req.http.upgrade;
        set bereq.http.connection = req.http.connection;
    }
}
