//! bollard's interactive attach (or exec) as a client command for hijack-harness:
//! the command's stdin goes to the container, the container's output to stdout
//! (and stderr), as a program built on bollard would do it.
//!
//! ```text
//! bollard-attach tcp://127.0.0.1:2375 attach
//! bollard-attach unix:///run/docker.sock exec
//! ```

use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::query_parameters::AttachContainerOptionsBuilder;
use bollard::{API_DEFAULT_VERSION, Docker};
use futures_util::StreamExt;
use tokio::io::{AsyncWriteExt, stderr, stdin, stdout};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("bollard-attach: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let host = args
        .next()
        .ok_or("usage: bollard-attach HOST [attach|exec]")?;
    let mode = args.next().unwrap_or_else(|| "attach".into());
    let docker = match host.strip_prefix("unix://") {
        Some(path) => Docker::connect_with_unix(path, 10, API_DEFAULT_VERSION)?,
        None => Docker::connect_with_http(&host, 10, API_DEFAULT_VERSION)?,
    };
    let info = docker.inspect_container("c1", None).await?;
    let tty = info.config.and_then(|c| c.tty).unwrap_or(false);
    let (mut output, mut input) = if mode == "exec" {
        let exec = docker
            .create_exec(
                "c1",
                ExecConfig {
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    tty: Some(tty),
                    cmd: Some(vec!["cat".into()]),
                    ..Default::default()
                },
            )
            .await?;
        let options = StartExecOptions {
            detach: false,
            tty,
            output_capacity: None,
        };
        match docker.start_exec(&exec.id, Some(options)).await? {
            StartExecResults::Attached { output, input } => (output, input),
            StartExecResults::Detached => return Err("the exec started detached".into()),
        }
    } else {
        let options = AttachContainerOptionsBuilder::default()
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .stream(true)
            .build();
        let attached = docker.attach_container("c1", Some(options)).await?;
        (attached.output, attached.input)
    };
    tokio::spawn(async move {
        let mut from = stdin();
        let _ = tokio::io::copy(&mut from, &mut input).await;
        // EOF on stdin: shut the write half down, as `docker attach` does.
        let _ = input.shutdown().await;
    });
    let (mut out, mut err) = (stdout(), stderr());
    while let Some(item) = output.next().await {
        match item? {
            LogOutput::StdErr { message } => {
                err.write_all(&message).await?;
                err.flush().await?;
            }
            LogOutput::StdOut { message }
            | LogOutput::Console { message }
            | LogOutput::StdIn { message } => {
                out.write_all(&message).await?;
                out.flush().await?;
            }
        }
    }
    Ok(())
}
