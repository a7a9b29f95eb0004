#!/usr/bin/python3
"""Independent gRPC (HTTP/2) test peer for the Kata agent API.

Usage:
  grpc_client.py build
  grpc_client.py --addr unix:/path [--timeout 2s] check
  grpc_client.py --addr unix:/path [--timeout 2s] version
  grpc_client.py --addr unix:/path [--timeout 2s] call <Service> <Method> [<request-json>]
  grpc_client.py --addr unix:/path [--timeout 2s] reflect

Runs under Debian's /usr/bin/python3 (python3-grpcio, python3-protobuf,
python3-grpc-tools); started with another interpreter it re-executes itself
there. Message modules are generated with Debian's protoc and service stubs
with grpc_tools into ./build/gen, regenerated only when the inputs change.

Every command prints one JSON object on stdout. Exit codes: 0 success,
1 RPC error ({"error":{"code":"UNIMPLEMENTED","codeNumber":12,"message":...}};
a server that cannot be reached is UNAVAILABLE), 2 usage error, 3 build error.
"""

import argparse
import base64
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEBIAN_PYTHON = "/usr/bin/python3"
HERE = Path(__file__).resolve().parent
PROTO_SRC = HERE.parent.parent.parent / "agent" / "proto"
# The reflection messages (Debian packages no grpcio-reflection) come from the agent's tree too.
REFLECTION_PROTO = PROTO_SRC / "grpc" / "reflection" / "reflection.proto"
AGENT_PROTOS = ["types.proto", "csi.proto", "oci.proto", "health.proto", "agent.proto"]
SERVICE_PROTOS = ["health.proto", "agent.proto"]
BUILD = HERE / "build"
GEN = BUILD / "gen"
STAMP = BUILD / ".stamp"

EXIT_RPC, EXIT_USAGE, EXIT_BUILD = 1, 2, 3

try:
    import grpc
    from google.protobuf import descriptor_pb2, json_format, symbol_database
except ImportError:
    # The pyenv python3 on PATH has no grpc; Debian's interpreter does.
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON):
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, __file__, *sys.argv[1:]])
    print(json.dumps({"error": {"code": "FAILED_PRECONDITION", "codeNumber": 9,
                                "message": "grpc/protobuf not importable: apt-get install python3-grpcio python3-protobuf"}}))
    sys.exit(EXIT_BUILD)


class BuildError(Exception):
    pass


def emit(obj):
    print(json.dumps(obj, separators=(",", ":")))


def error_json(code, number, message):
    return {"error": {"code": code, "codeNumber": number, "message": message}}


# --- code generation ------------------------------------------------------

def _run(cmd, missing_pkg):
    try:
        res = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise BuildError(f"{cmd[0]} not found: apt-get install {missing_pkg}")
    if "No module named 'pkg_resources'" in res.stderr:
        # grpc_tools.protoc imports it, but python3-grpc-tools does not depend on it.
        raise BuildError("grpc_tools.protoc needs pkg_resources: apt-get install python3-pkg-resources")
    if res.returncode != 0:
        raise BuildError(f"{' '.join(map(str, cmd))} failed ({missing_pkg}): {res.stderr.strip()}")
    return res.stdout


def _cache_key():
    h = hashlib.sha256()
    for p in [Path(__file__).resolve(), REFLECTION_PROTO, *(PROTO_SRC / f for f in AGENT_PROTOS)]:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    h.update(_run(["protoc", "--version"], "protobuf-compiler").encode())
    h.update(f"grpc {grpc.__version__}".encode())
    return h.hexdigest()


# grpc_tools 1.14 bundles a protoc that predates proto3 `optional`. Stub code
# never looks inside messages, so it is generated from a copy where each
# `optional T x = N;` is the equivalent one-field oneof.
_OPTIONAL = re.compile(r"^(\s*)optional\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;", re.M)


def _well_known_include():
    """Directory holding google/protobuf/empty.proto: libprotobuf-dev's, else grpc_tools' copy."""
    for d in [Path("/usr/include"), Path(importlib.util.find_spec("grpc_tools").origin).parent / "_proto"]:
        if (d / "google/protobuf/empty.proto").exists():
            return d
    raise BuildError("google/protobuf/empty.proto not found: apt-get install libprotobuf-dev")


def _generate(out):
    staged = out / "_proto"
    staged.mkdir()
    for f in AGENT_PROTOS:
        shutil.copy(PROTO_SRC / f, staged / f)
    shutil.copy(REFLECTION_PROTO, staged / "reflection.proto")
    _run(["protoc", f"-I{staged}", f"-I{_well_known_include()}", f"--python_out={out}",
          *AGENT_PROTOS, "reflection.proto"], "protobuf-compiler")

    for f in SERVICE_PROTOS:
        text = (staged / f).read_text()
        (staged / f).write_text(_OPTIONAL.sub(r"\1oneof _\3 { \2 \3 = \4; }", text))
    _run([DEBIAN_PYTHON, "-m", "grpc_tools.protoc", f"-I{staged}", f"--grpc_python_out={out}",
          *SERVICE_PROTOS], "python3-grpc-tools")
    shutil.rmtree(staged)


def ensure_generated():
    """Generates build/gen once per input hash; returns True when cached."""
    BUILD.mkdir(exist_ok=True)
    with open(BUILD / ".lock", "w") as lock:
        # Parallel test workers may build at the same time.
        fcntl.flock(lock, fcntl.LOCK_EX)
        key = _cache_key()
        if GEN.is_dir() and STAMP.exists() and STAMP.read_text() == key:
            return True
        STAMP.unlink(missing_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="gen-", dir=BUILD))
        try:
            _generate(tmp)
            shutil.rmtree(GEN, ignore_errors=True)
            tmp.rename(GEN)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        STAMP.write_text(key)
        return False


def load_modules():
    sys.path.insert(0, str(GEN))
    import agent_pb2_grpc
    import health_pb2
    import health_pb2_grpc
    import reflection_pb2
    return {
        "health_pb2": health_pb2,
        "reflection_pb2": reflection_pb2,
        "stubs": {"grpc.AgentService": agent_pb2_grpc.AgentServiceStub, "grpc.Health": health_pb2_grpc.HealthStub},
    }


# --- commands --------------------------------------------------------------

def to_json(msg):
    # Defaults are included so that e.g. an empty ReadStreamResponse.data (EOF) is visible.
    return json_format.MessageToDict(msg, preserving_proto_field_name=True, including_default_value_fields=True)


def cmd_check(mods, channel, timeout, _args):
    stub = mods["stubs"]["grpc.Health"](channel)
    return to_json(stub.Check(mods["health_pb2"].CheckRequest(), timeout=timeout))


def cmd_version(mods, channel, timeout, _args):
    stub = mods["stubs"]["grpc.Health"](channel)
    return to_json(stub.Version(mods["health_pb2"].CheckRequest(), timeout=timeout))


def cmd_call(mods, channel, timeout, args):
    if len(args) not in (2, 3):
        raise UsageError("usage: call <Service> <Method> [<request-json>]")
    service, method, body = args[0], args[1], args[2] if len(args) == 3 else "{}"
    pool = symbol_database.Default().pool
    try:
        desc = pool.FindServiceByName(service).methods_by_name[method]
    except KeyError:
        # Unknown to us: send an empty payload anyway, to test the server's answer.
        try:
            empty = json.loads(body) == {}
        except ValueError:
            empty = False
        if not empty:
            raise UsageError(f"unknown method {service}/{method}: only '{{}}' (an empty payload) can be sent to it")
        raw = channel.unary_unary(f"/{service}/{method}")
        return {"rawPayloadBase64": base64.b64encode(raw(b"", timeout=timeout)).decode()}
    sym = symbol_database.Default()
    req = sym.GetSymbol(desc.input_type.full_name)()
    try:
        json_format.Parse(body, req)
    except json_format.ParseError as e:
        raise UsageError(f"request JSON for {desc.input_type.full_name}: {e}")
    stub = mods["stubs"][service](channel)
    return to_json(getattr(stub, method)(req, timeout=timeout))


REFLECTION_APIS = ["grpc.reflection.v1", "grpc.reflection.v1alpha"]


def _reflect_stream(mods, channel, api, requests, timeout):
    r = mods["reflection_pb2"]
    call = channel.stream_stream(f"/{api}.ServerReflection/ServerReflectionInfo",
                                 request_serializer=r.ServerReflectionRequest.SerializeToString,
                                 response_deserializer=r.ServerReflectionResponse.FromString)
    return list(call(iter(requests), timeout=timeout))


def cmd_reflect(mods, channel, timeout, _args):
    """Lists services, and each service's methods, via server reflection (v1, else v1alpha)."""
    r = mods["reflection_pb2"]
    for api in REFLECTION_APIS:
        try:
            [listing] = _reflect_stream(mods, channel, api, [r.ServerReflectionRequest(list_services="")], timeout)
            break
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED or api == REFLECTION_APIS[-1]:
                raise
    names = [s.name for s in listing.list_services_response.service]
    answers = _reflect_stream(mods, channel, api,
                              [r.ServerReflectionRequest(file_containing_symbol=n) for n in names], timeout)
    services = []
    for name, answer in zip(names, answers):
        entry = {"name": name, "methods": None}
        if answer.HasField("error_response"):
            entry["error"] = {"codeNumber": answer.error_response.error_code, "message": answer.error_response.error_message}
        for raw in answer.file_descriptor_response.file_descriptor_proto:
            fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
            for svc in fd.service:
                if f"{fd.package}.{svc.name}".lstrip(".") == name:
                    entry["file"] = fd.name
                    entry["methods"] = [{"name": m.name, "request": m.input_type.lstrip("."),
                                         "response": m.output_type.lstrip(".")} for m in svc.method]
        services.append(entry)
    return {"api": api, "services": services}


COMMANDS = {"check": cmd_check, "version": cmd_version, "call": cmd_call, "reflect": cmd_reflect}


class UsageError(Exception):
    pass


def parse_duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", text)
    if not m:
        raise UsageError(f"bad duration {text!r}: want e.g. 500ms, 2s, 1m")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def main(argv):
    parser = _Parser(prog="grpc_client.py", description=__doc__.split("\n")[0])
    parser.add_argument("--addr", help="gRPC target: unix:/path, unix:///path, unix-abstract:name, host:port")
    parser.add_argument("--timeout", help="per-call deadline, e.g. 2s (default: none)")
    parser.add_argument("command", choices=["build", *COMMANDS])
    parser.add_argument("args", nargs=argparse.REMAINDER)
    try:
        opts = parser.parse_args(argv)
        timeout = parse_duration(opts.timeout) if opts.timeout else None
        if opts.command != "build" and not opts.addr:
            raise UsageError("--addr is required")
    except UsageError as e:
        emit(error_json("INVALID_ARGUMENT", 3, str(e)))
        return EXIT_USAGE

    started = time.monotonic()
    try:
        cached = ensure_generated()
    except BuildError as e:
        emit(error_json("FAILED_PRECONDITION", 9, f"generating Python modules: {e}"))
        return EXIT_BUILD
    if opts.command == "build":
        emit({"dir": str(GEN), "cached": cached, "seconds": round(time.monotonic() - started, 3)})
        return 0

    mods = load_modules()
    with grpc.insecure_channel(opts.addr) as channel:
        try:
            emit(COMMANDS[opts.command](mods, channel, timeout, opts.args))
            return 0
        except UsageError as e:
            emit(error_json("INVALID_ARGUMENT", 3, str(e)))
            return EXIT_USAGE
        except grpc.RpcError as e:
            emit(error_json(e.code().name, e.code().value[0], e.details() or ""))
            return EXIT_RPC


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
