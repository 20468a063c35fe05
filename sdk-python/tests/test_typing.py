"""Types and docs: mypy --strict over the package, its stubs and a typed usage program
(which also runs); stubtest compares the stubs with the native module; every public name has
a docstring."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import weir
import weir.aio
import weir.errors
from weir_server import WeirServer

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent / "python" / "weir"


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.fail("mypy is not installed (scripts/test-python installs it)")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=HERE,
    )


def test_mypy_strict_over_the_package_and_a_typed_program() -> None:
    done = mypy(str(PACKAGE), str(HERE / "typed_usage.py"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_rejects_misuse(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import weir\n"
        "p = weir.Producer(url='x')\n"
        "p.send('t', value=3)\n"
        "m: str = p.send('t', b'v').result().offset\n"
        "weir.Consumer(topics=['t'], group=1)\n"
    )
    done = mypy(str(bad))
    assert done.returncode != 0
    assert done.stdout.count("error:") >= 3, done.stdout


def test_stubs_match_the_native_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "weir._weir", "--ignore-disjoint-bases"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=HERE,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def public_members(obj: object) -> list[tuple[str, object]]:
    members = []
    for name, value in inspect.getmembers(obj):
        if name.startswith("_"):
            continue
        if inspect.isclass(obj) and name not in vars(obj):
            continue  # inherited (e.g. from Exception)
        if inspect.isclass(obj) and not (
            callable(value) or inspect.isdatadescriptor(vars(obj)[name])
        ):
            continue  # plain data (e.g. WeirError.error_code)
        members.append((name, value))
    return members


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for module in (weir, weir.aio, weir.errors):
        if not (module.__doc__ or "").strip():
            missing.append(module.__name__)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not (inspect.isclass(obj) or callable(obj)):
                continue
            if not (getattr(obj, "__doc__", None) or "").strip():
                missing.append(f"{module.__name__}.{name}")
            if inspect.isclass(obj):
                for member, value in public_members(obj):
                    if not (getattr(value, "__doc__", None) or "").strip():
                        missing.append(f"{module.__name__}.{name}.{member}")
    assert missing == []


def test_the_typed_program_runs(server: WeirServer) -> None:
    sys.path.insert(0, str(HERE))
    import typed_usage

    counts = typed_usage.run_all(server.grpc, server.token)
    assert counts == {
        "partitions": 2,
        "sent": 3,
        "committed_p0": counts["committed_p0"],
        "position_p1": counts["position_p1"],
        "headers": 3,
        "revoked": 2,
        "lag": 0,
        "not_found": 1,
        "async_offset": 0,
    }
    assert counts["committed_p0"] + counts["position_p1"] == 3
